"""The issue's CI test: mlp1 trained in fixed point on real MNIST (SPINLA_DATA)."""
from spinla import nn


def test_mlp1_2000_images_one_epoch_over_85_percent(mnist_data):
    """One epoch on the first 2,000 training images, > 85 % on the first 1,000 test images.

    125 steps of batch 16 with Adam at 3e-3: a float64 twin of this run (same
    initial weights, same batches) reaches 87-88 % over four seeds, the fixed-point run
    87.3-87.7 %.  Keras's default 1e-3 gives 85-86 % in float64 as in fixed point - too
    close to the bar to be a robust test after only 125 steps."""
    (x, y), (xt, yt) = mnist_data
    model = nn.mlp1(seed=0)
    model.compile(optimizer=nn.Adam(3e-3), loss="categorical_crossentropy")
    hist = model.fit(x[:2000], y[:2000], epochs=1, batch_size=16, shuffle=False, seed=0,
                     verbose=0)
    loss, acc = model.evaluate(xt[:1000], yt[:1000])
    assert acc > 0.85, f"test accuracy {acc:.4f} (train loss {hist['loss'][0]:.4f})"
    assert hist["spinnaker_time_s"][0] > 0 and hist["spinnaker_energy_j"][0] > 0
