#!/usr/bin/python3
# Developer-time script (Debian python3-pil 9.4 + python3-numpy): writes the small JPEGs and
# the PIL-decoded reference pixels that tests/unit/jpeg_decode_test.cc compares qcal's decoder with.
#   cd tests/testdata/jpeg && /usr/bin/python3 make_reference.py
# pil_cifar.npy: uint8 [4,32,32,3] = PIL's RGB pixels of CIFAR_FILES (from shared/testdata).
# odd_420.jpg (37x23 RGB, 4:2:0), odd_422.jpg (19x13, 4:2:2), gray.jpg (24x20, 1 channel),
# cmyk.jpg (8x8 CMYK) and the matching pil_<name>.npy (HWC uint8, gray as HW1).
import os
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, '..', '..', '..', '..', 'shared', 'testdata', 'cifar10_test_jpg')
CIFAR_FILES = ['airplane/0000.jpg', 'cat/0000.jpg', 'dog/0123.jpg', 'truck/0499.jpg']


def pattern(h, w, seed):
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(seed)
    base = np.stack([(x * 7 + y * 3) % 256, (y * 11) % 256, ((x ^ y) * 9) % 256], axis=-1)
    return np.clip(base + rng.integers(-40, 40, size=(h, w, 3)), 0, 255).astype(np.uint8)


def save(name, array):
    np.save(os.path.join(HERE, name), np.ascontiguousarray(array))


cifar = [np.asarray(Image.open(os.path.join(TESTDATA, f)).convert('RGB')) for f in CIFAR_FILES]
save('pil_cifar.npy', np.stack(cifar))

Image.fromarray(pattern(23, 37, 1)).save(os.path.join(HERE, 'odd_420.jpg'), quality=80, subsampling=2)
Image.fromarray(pattern(13, 19, 2)).save(os.path.join(HERE, 'odd_422.jpg'), quality=90, subsampling=1)
Image.fromarray(pattern(20, 24, 3)[:, :, 0]).save(os.path.join(HERE, 'gray.jpg'), quality=85)
Image.fromarray(pattern(8, 8, 4)).convert('CMYK').save(os.path.join(HERE, 'cmyk.jpg'), quality=90)
for name in ['odd_420', 'odd_422']:
    save('pil_%s.npy' % name, np.asarray(Image.open(os.path.join(HERE, name + '.jpg')).convert('RGB')))
save('pil_gray.npy', np.asarray(Image.open(os.path.join(HERE, 'gray.jpg')))[:, :, None])
