"""dtml: Dual-Task Mutual Learning for semi-supervised 3D segmentation (Zhang & Zhang, PRCV 2021).

Submodules hold one concept each: ``sdf`` (Eqs. 1-2), ``nets`` (V-Net), ``losses``, ``methods``,
``train``, ``infer``, ``metrics``, ``data`` (readers, phantom, sampler), ``viz``, ``cli``.
"""

__version__ = "0.1.0"
