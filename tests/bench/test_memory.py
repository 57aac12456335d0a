"""The slides' example: y = x W with x (64, 4096), W (4096, 4096). Its Jacobian dy/dx would take 256 GiB;
the backward pass must stay under 1 GB because a VJP never forms it."""


def test_backward_of_the_256_gib_jacobian_product_stays_under_1_gb(bench_module):
    memory = bench_module("memory")
    result = memory.matmul_backward_peak()
    assert result["jacobian_bytes"] == 256 * 2**30
    assert result["correct"]
    assert result["peak_bytes"] < 1e9
    # what it does hold: the two gradients (x's and W's shapes), and little else
    assert result["peak_bytes"] < 1.5 * result["gradient_bytes"]
