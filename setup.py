"""Install kd_mmdet; ship configs/, tools/ and model-index.yml inside the package as mim
expects."""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def version() -> str:
    with open(osp.join(HERE, 'kd_mmdet', 'version.py')) as f:
        scope: dict = {}
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension() -> None:
    """Place configs/, tools/ and model-index.yml at kd_mmdet/.mim/, where `mim train
    kd_mmdet` looks for configs and `mim search kd_mmdet` for the model index (whose
    imports name configs/<folder>/metafile.yml relative to it).

    Editable installs link them (edits show at once); wheels and sdists copy them.
    """
    if {'develop', 'editable_wheel'} & set(sys.argv):
        mode = 'symlink'
    elif {'sdist', 'bdist_wheel', 'build', 'install'} & set(sys.argv):
        mode = 'copy'
    else:
        return
    mim_dir = osp.join(HERE, 'kd_mmdet', '.mim')
    os.makedirs(mim_dir, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_dir, name)
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            os.symlink(osp.relpath(src, mim_dir), dst)
        elif osp.isdir(src):
            shutil.copytree(src, dst)
        else:
            shutil.copyfile(src, dst)


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='kd_mmdet',
        version=version(),
        description='Knowledge distillation for OpenMMLab detection and classification',
        packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
        py_modules=['kd_mmdet_startup'],
        include_package_data=True,
        package_data={'kd_mmdet': ['.mim/configs/**/*', '.mim/tools/**/*',
                                   '.mim/model-index.yml']},
        python_requires='>=3.8',
        zip_safe=False,
    )
