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
    # official: (16 - 10)//2 + 3 = 6 each side on x, (8 - 6)//2 + 3 = 4 on z, and y (longer
    # than the patch by 4) still gains max((16 - 20)//2 + 3, 0) = 1 each side
    assert padded.shape == (22, 22, 14)
    assert padded[:6].sum() == 0 and padded[6:16, 1:21, 4:10].all()
    assert pad_to(volume, (16, 16, 8), pipeline=1).shape == (22, 20, 14)  # y untouched
    assert pad_to(np.ones((17, 30, 9)), (16, 16, 8)).shape == (17, 30, 9)  # nothing short


def test_center_crop_is_central():
    volume = np.zeros((20, 20, 20), np.float32)
    volume[8:12, 8:12, 8:12] = 1
    out = center_crop([volume], (4, 4, 4))[0]
    assert out.all()


def test_augment_without_label_returns_none():
    image = np.zeros((20, 20, 20), np.float32)
    img, lab = augment(image, None, (16, 16, 16), np.random.default_rng(0))
    assert lab is None and img.shape == (16, 16, 16)


def test_crop_start_excludes_its_upper_bound_as_the_official_randint():
    volume = np.arange(18 * 17 * 9, dtype=np.float32).reshape(18, 17, 9)
    starts1, starts2 = set(), set()
    for seed in range(300):
        out2 = random_crop([volume], (16, 16, 8), np.random.default_rng(seed))[0]
        out1 = random_crop([volume], (16, 16, 8), np.random.default_rng(seed), pipeline=1)[0]
        starts2.add(tuple(int(v) for v in np.unravel_index(int(out2.flat[0]), volume.shape)))
        starts1.add(tuple(int(v) for v in np.unravel_index(int(out1.flat[0]), volume.shape)))
    assert {s[0] for s in starts2} == {0, 1}  # randint(0, 18 - 16): never 2
    assert {s[0] for s in starts1} == {0, 1, 2}  # pipeline 1: inclusive
