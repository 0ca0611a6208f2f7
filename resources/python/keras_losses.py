"""The Dice losses in Keras 3, for the Keras script export
(core/export/keras_script_export.cpp).
"""

import keras
from keras import ops

# --- SegForge embeds the lines below in exported scripts ---


def dice_loss(epsilon=1e-6):
    """1 − Dice over each sample's pixels and channels, averaged over the batch."""
    def loss(y_true, y_pred):
        y_true = ops.cast(y_true, y_pred.dtype)
        axes = (1, 2, 3)
        inter = ops.sum(y_true * y_pred, axis=axes)
        total = ops.sum(y_true, axis=axes) + ops.sum(y_pred, axis=axes)
        return 1.0 - (2.0 * inter + epsilon) / (total + epsilon)
    return loss

def bce_dice_loss(epsilon=1e-6, bce_weight=1.0, dice_weight=1.0):
    bce = keras.losses.BinaryCrossentropy()
    dice = dice_loss(epsilon)
    def loss(y_true, y_pred):
        return bce_weight * bce(y_true, y_pred) + dice_weight * ops.mean(dice(y_true, y_pred))
    return loss
