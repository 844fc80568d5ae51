"""Metrics: LPIPS (the SCoGAN thesis's measure), FID/KID and joint-distribution agreement.

* :mod:`.lpips`: LPIPS v0.1 (AlexNet, VGG16) in TensorFlow, equal to the official package.
* :mod:`.weights`: the user cache and the conversion of the official LPIPS release.
* :mod:`.coupled`: the three Table 5.2 LPIPS numbers of a coupled run, streamed.
* :mod:`.fid`: FID and KID on InceptionV3 pool features.
* :mod:`.agreement`: class agreement of same-z pairs, MNIST2edge pixel agreement.
"""
