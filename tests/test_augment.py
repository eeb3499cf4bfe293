import numpy as np

from dtml.data.augment import augment, center_crop, pad_to, random_crop, rot_flip


def test_rot_flip_keeps_image_and_label_aligned_and_z_untouched():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(8, 8, 5)).astype(np.float32)
    label = (image > 0.5).astype(np.uint8)
    for seed in range(12):
        img, lab = rot_flip([image, label], np.random.default_rng(seed))
        np.testing.assert_array_equal(lab, (img > 0.5).astype(np.uint8))
        # rot90 in x-y and flips along x or y keep each z slice's content
        np.testing.assert_allclose(
            np.sort(img.reshape(-1, 5), axis=0), np.sort(image.reshape(-1, 5), axis=0)
        )


def test_random_crop_has_patch_shape_and_is_seeded():
    volume = np.arange(20 * 18 * 10, dtype=np.float32).reshape(20, 18, 10)
    a = random_crop([volume], (16, 16, 8), np.random.default_rng(1))[0]
    b = random_crop([volume], (16, 16, 8), np.random.default_rng(1))[0]
    assert a.shape == (16, 16, 8) and np.array_equal(a, b)


def test_small_volumes_are_padded_like_the_official_crop():
    volume = np.ones((10, 20, 6), np.float32)
    padded = pad_to(volume, (16, 16, 8))
    # (16 - 10)//2 + 3 = 6 each side on x, (8 - 6)//2 + 3 = 4 each side on z, y untouched
    assert padded.shape == (22, 20, 14)
    assert padded[:6].sum() == 0 and padded[6:16, :, 4:10].all()


def test_center_crop_is_central():
    volume = np.zeros((20, 20, 20), np.float32)
    volume[8:12, 8:12, 8:12] = 1
    out = center_crop([volume], (4, 4, 4))[0]
    assert out.all()


def test_augment_without_label_returns_none():
    image = np.zeros((20, 20, 20), np.float32)
    img, lab = augment(image, None, (16, 16, 16), np.random.default_rng(0))
    assert lab is None and img.shape == (16, 16, 16)
