# nbgrader's settings for a student of autodiff_lab (`autodiff-lab lab` puts this folder on JUPYTER_CONFIG_PATH;
# on a JupyterHub the instructor's guide installs the same files). Validate and the assignment list read it.
c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "autodiff_lab"
# Validate runs the notebook in a kernel of its own: over local sockets, not unencrypted TCP
c.KernelManager.transport = "ipc"
