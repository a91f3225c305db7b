"""The script spinla was proposed around, as written, with one changed line: the data come
from spinla.datasets.mnist.load_data() (Keras's loader needs the internet; ours reads
$SPINLA_DATA or a cache, checksums verified).  Without TensorFlow, Keras 3 is imported
directly (keras2spinnaker picks its jax backend).

    python examples/proposal.py        # one epoch on the emulated SpiNN-5; prints >= 95 %
"""
import keras2spinnaker as k2s
from keras2spinnaker import keras2spinnaker
from spinla.datasets import mnist

try:
    import tensorflow as tf
except ImportError:          # Keras 3 alone: the same API as tf.keras
    import keras

    class tf:
        keras = keras

(X_train, y_train), (X_test, y_test) = mnist.load_data()   # the changed line
X_train, X_test = X_train / 255.0, X_test / 255.0

model = tf.keras.models.Sequential([
  tf.keras.layers.Flatten(input_shape=(28, 28)),
  tf.keras.layers.Dense(128, activation='relu'),
  tf.keras.layers.Dropout(0.2),
  tf.keras.layers.Dense(10, activation='softmax')
])
model.compile(optimizer='adam',
              loss='sparse_categorical_crossentropy',
              metrics=['accuracy'])

model = keras2spinnaker(model)   # convert to a SpiNNaker graph
k2s.fit(model, X_train, y_train) # train on SpiNNaker, write the weights back into the Keras model

s = model.evaluate(X_test, y_test)  # runs on the local machine
print("loss: ", s[0], "accuracy: ", s[1])
