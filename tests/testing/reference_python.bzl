"""A test that runs a Python script in the project's Python environment (@python_env//:python).

For comparisons with the official Python implementations (pycocotools, torchvision, plain
PyTorch): the script gets `args` (locations expanded) and runs from the runfiles root.
"""

def reference_python_test(name, script, args = [], data = [], **kwargs):
    native.sh_test(
        name = name,
        srcs = ["@python_env//:python"],
        args = ["$(location %s)" % script] + args,
        data = [script] + data,
        **kwargs
    )
