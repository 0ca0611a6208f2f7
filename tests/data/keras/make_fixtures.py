#!/usr/bin/env python3
"""Writes the Keras fixtures of the interop tests, in the exact shapes that
Keras 2 (tf.keras 2.x) and Keras 3 give `model.to_json()`. Written by hand
for SegForge (no Keras needed); run it again after editing and commit the
output. Usage: python3 make_fixtures.py (in this folder)."""

import json
import zipfile

# ---------------------------------------------------------------- Keras 2 ----

def k2_layer(cls, name, inbound, **config):
    base = {"name": name, "trainable": True, "dtype": "float32"}
    base.update(config)
    return {"class_name": cls, "config": base, "name": name,
            "inbound_nodes": [[[src, 0, 0, {}] for src in inbound]] if inbound else []}


def k2_conv(name, src, filters, kernel=3, activation="relu", padding="same", strides=1):
    return k2_layer("Conv2D", name, [src], filters=filters, kernel_size=[kernel, kernel],
                    strides=[strides, strides], padding=padding, data_format="channels_last",
                    dilation_rate=[1, 1], groups=1, activation=activation, use_bias=True,
                    kernel_initializer={"class_name": "HeNormal", "config": {"seed": None}},
                    bias_initializer={"class_name": "Zeros", "config": {}},
                    kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                    kernel_constraint=None, bias_constraint=None)


def k2_unet_with_concat_bug():
    """100×100 input, three poolings: 100 → 50 → 25 → 12; the decoder brings
    12 back to 24 and concatenates it with the 25×25 skip: the classic error."""
    L = [{"class_name": "InputLayer",
          "config": {"batch_input_shape": [None, 100, 100, 3], "dtype": "float32",
                     "sparse": False, "ragged": False, "name": "input_1"},
          "name": "input_1", "inbound_nodes": []}]
    L.append(k2_conv("conv2d", "input_1", 16))
    L.append(k2_layer("BatchNormalization", "batch_normalization", ["conv2d"], axis=[3],
                      momentum=0.99, epsilon=0.001, center=True, scale=True,
                      beta_initializer={"class_name": "Zeros", "config": {}},
                      gamma_initializer={"class_name": "Ones", "config": {}},
                      moving_mean_initializer={"class_name": "Zeros", "config": {}},
                      moving_variance_initializer={"class_name": "Ones", "config": {}},
                      beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                      gamma_constraint=None))
    L.append(k2_layer("MaxPooling2D", "max_pooling2d", ["batch_normalization"], pool_size=[2, 2],
                      padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k2_conv("conv2d_1", "max_pooling2d", 32))
    L.append(k2_layer("MaxPooling2D", "max_pooling2d_1", ["conv2d_1"], pool_size=[2, 2],
                      padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k2_conv("conv2d_2", "max_pooling2d_1", 64))
    L.append(k2_layer("SpatialDropout2D", "spatial_dropout2d", ["conv2d_2"], rate=0.1,
                      noise_shape=None, seed=None))
    L.append(k2_layer("MaxPooling2D", "max_pooling2d_2", ["spatial_dropout2d"], pool_size=[2, 2],
                      padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k2_conv("conv2d_3", "max_pooling2d_2", 128))
    L.append(k2_layer("Dropout", "dropout", ["conv2d_3"], rate=0.3, noise_shape=None, seed=None))
    L.append(k2_layer("Conv2DTranspose", "conv2d_transpose", ["dropout"], filters=64,
                      kernel_size=[2, 2], strides=[2, 2], padding="same", output_padding=None,
                      data_format="channels_last", dilation_rate=[1, 1], activation="linear",
                      use_bias=True,
                      kernel_initializer={"class_name": "GlorotUniform", "config": {"seed": None}},
                      bias_initializer={"class_name": "Zeros", "config": {}},
                      kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                      kernel_constraint=None, bias_constraint=None))
    L.append(k2_layer("Concatenate", "concatenate", ["conv2d_transpose", "spatial_dropout2d"], axis=3))
    L.append(k2_conv("conv2d_4", "concatenate", 64))
    L.append(k2_layer("UpSampling2D", "up_sampling2d", ["conv2d_4"], size=[2, 2],
                      data_format="channels_last", interpolation="nearest"))
    L.append(k2_layer("Concatenate", "concatenate_1", ["up_sampling2d", "conv2d_1"], axis=-1))
    L.append(k2_conv("conv2d_5", "concatenate_1", 32))
    L.append(k2_layer("UpSampling2D", "up_sampling2d_1", ["conv2d_5"], size=[2, 2],
                      data_format="channels_last", interpolation="nearest"))
    L.append(k2_layer("Concatenate", "concatenate_2", ["up_sampling2d_1", "conv2d"], axis=-1))
    L.append(k2_conv("conv2d_6", "concatenate_2", 16))
    L.append(k2_conv("conv2d_7", "conv2d_6", 1, kernel=1, activation="sigmoid"))
    return {"class_name": "Functional",
            "config": {"name": "unet", "layers": L, "input_layers": [["input_1", 0, 0]],
                       "output_layers": [["conv2d_7", 0, 0]]},
            "keras_version": "2.9.0", "backend": "tensorflow"}


def k2_sequential():
    """Keras 2 Sequential without an InputLayer: the shape sits on the first layer."""
    first = k2_conv("conv2d", None, 8)["config"]
    first["batch_input_shape"] = [None, 32, 32, 1]
    layers = [{"class_name": "Conv2D", "config": first}]
    for cls, cfg in [
        ("LeakyReLU", {"name": "leaky_re_lu", "alpha": 0.1}),
        ("MaxPooling2D", {"name": "max_pooling2d", "pool_size": [2, 2], "padding": "valid",
                          "strides": None, "data_format": "channels_last"}),
        ("ZeroPadding2D", {"name": "zero_padding2d", "padding": [[1, 1], [2, 2]],
                           "data_format": "channels_last"}),
        ("Cropping2D", {"name": "cropping2d", "cropping": [[0, 1], [1, 0]],
                        "data_format": "channels_last"}),
        ("AveragePooling2D", {"name": "average_pooling2d", "pool_size": [3, 3], "strides": [1, 1],
                              "padding": "same", "data_format": "channels_last"}),
        ("ReLU", {"name": "re_lu", "max_value": None, "negative_slope": 0.0, "threshold": 0.0}),
        ("Activation", {"name": "activation", "activation": "sigmoid"}),
    ]:
        cfg.update({"trainable": True, "dtype": "float32"})
        layers.append({"class_name": cls, "config": cfg})
    return {"class_name": "Sequential", "config": {"name": "sequential", "layers": layers},
            "keras_version": "2.9.0", "backend": "tensorflow"}

# ---------------------------------------------------------------- Keras 3 ----

POLICY = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
          "registered_name": None}


def k3_tensor(shape, src, node=0, index=0):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": "float32", "keras_history": [src, node, index]}}


def k3_layer(cls, name, args, **config):
    base = {"name": name, "trainable": True, "dtype": POLICY}
    base.update(config)
    layer = {"module": "keras.layers", "class_name": cls, "config": base, "registered_name": None,
             "name": name, "inbound_nodes": [{"args": args, "kwargs": {}}] if args is not None else []}
    return layer


def k3_input(name, shape):
    return {"module": "keras.layers", "class_name": "InputLayer",
            "config": {"batch_shape": shape, "dtype": "float32", "sparse": False, "name": name},
            "registered_name": None, "name": name, "inbound_nodes": []}


def k3_conv(name, src, shape, filters, kernel=3, activation="relu", cls="Conv2D", strides=1,
            padding="same"):
    cfg = dict(filters=filters, kernel_size=[kernel, kernel], strides=[strides, strides],
               padding=padding, data_format="channels_last", dilation_rate=[1, 1],
               activation=activation, use_bias=True,
               kernel_initializer={"module": "keras.initializers", "class_name": "GlorotUniform",
                                   "config": {"seed": None}, "registered_name": None},
               bias_initializer={"module": "keras.initializers", "class_name": "Zeros",
                                 "config": {}, "registered_name": None},
               kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
               kernel_constraint=None, bias_constraint=None)
    if cls == "Conv2D":
        cfg["groups"] = 1
    else:
        cfg["output_padding"] = None
    layer = k3_layer(cls, name, [k3_tensor(shape, src)], **cfg)
    layer["build_config"] = {"input_shape": shape}
    return layer


def k3_functional(extra_unsupported=False):
    """A clean 64×64 U-Net of depth 2, Keras 3 form."""
    L = [k3_input("image", [None, 64, 64, 3])]
    L.append(k3_layer("Rescaling", "rescale", [k3_tensor([None, 64, 64, 3], "image")],
                      scale=0.00392156862745098, offset=0.0))
    L.append(k3_conv("enc1", "rescale", [None, 64, 64, 3], 8))
    L.append(k3_layer("MaxPooling2D", "pool1", [k3_tensor([None, 64, 64, 8], "enc1")],
                      pool_size=[2, 2], padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k3_conv("enc2", "pool1", [None, 32, 32, 8], 16, activation="linear"))
    L.append(k3_layer("BatchNormalization", "enc2_bn", [k3_tensor([None, 32, 32, 16], "enc2")],
                      axis=-1, momentum=0.9, epsilon=0.001, center=True, scale=True,
                      beta_initializer={"module": "keras.initializers", "class_name": "Zeros",
                                        "config": {}, "registered_name": None},
                      gamma_initializer={"module": "keras.initializers", "class_name": "Ones",
                                         "config": {}, "registered_name": None},
                      moving_mean_initializer={"module": "keras.initializers", "class_name": "Zeros",
                                               "config": {}, "registered_name": None},
                      moving_variance_initializer={"module": "keras.initializers",
                                                   "class_name": "Ones", "config": {},
                                                   "registered_name": None},
                      beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                      gamma_constraint=None, synchronized=False))
    L.append(k3_layer("Activation", "enc2_act", [k3_tensor([None, 32, 32, 16], "enc2_bn")],
                      activation="relu"))
    last = "enc2_act"
    if extra_unsupported:
        # Keras' LayerNormalization (over the channels): no SegForge op.
        L.append(k3_layer("LayerNormalization", "enc2_gn", [k3_tensor([None, 32, 32, 16], last)],
                          axis=-1, epsilon=0.001, center=True, scale=True))
        last = "enc2_gn"
    L.append(k3_conv("up1", last, [None, 32, 32, 16], 8, kernel=2, activation="linear",
                     cls="Conv2DTranspose", strides=2))
    L.append(k3_layer("Concatenate", "skip1",
                      [[k3_tensor([None, 64, 64, 8], "up1"), k3_tensor([None, 64, 64, 8], "enc1")]],
                      axis=-1))
    L.append(k3_conv("dec1", "skip1", [None, 64, 64, 16], 8))
    L.append(k3_layer("Add", "residual",
                      [[k3_tensor([None, 64, 64, 8], "dec1"), k3_tensor([None, 64, 64, 8], "enc1")]]))
    L.append(k3_conv("head", "residual", [None, 64, 64, 8], 1, kernel=1, activation="sigmoid"))
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "keras3_unet", "trainable": True,
                       "layers": L, "input_layers": [["image", 0, 0]],
                       "output_layers": [["head", 0, 0]]},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def k3_nested():
    """A Functional model calling a nested Sequential block and a nested Functional block."""
    block = {"module": "keras", "class_name": "Sequential",
             "config": {"name": "block", "trainable": True, "dtype": POLICY, "layers": [
                 {"module": "keras.layers", "class_name": "InputLayer",
                  "config": {"batch_shape": [None, 32, 32, 4], "dtype": "float32",
                             "sparse": False, "name": "block_in"}, "registered_name": None},
                 {"module": "keras.layers", "class_name": "Conv2D",
                  "config": {"name": "block_conv", "trainable": True, "dtype": POLICY, "filters": 4,
                             "kernel_size": [3, 3], "padding": "same", "activation": "relu"},
                  "registered_name": None},
                 {"module": "keras.layers", "class_name": "Dropout",
                  "config": {"name": "block_drop", "trainable": True, "dtype": POLICY,
                             "rate": 0.25, "seed": 7, "noise_shape": None},
                  "registered_name": None}],
                 "build_input_shape": [None, 32, 32, 4]},
             "registered_name": None, "name": "block",
             "inbound_nodes": [{"args": [k3_tensor([None, 32, 32, 4], "stem")], "kwargs": {}}]}
    inner = {"module": "keras.src.models.functional", "class_name": "Functional",
             "config": {"name": "merge_block", "trainable": True, "layers": [
                 k3_input("m_a", [None, 32, 32, 4]),
                 k3_input("m_b", [None, 32, 32, 4]),
                 k3_layer("Multiply", "gate", [[k3_tensor([None, 32, 32, 4], "m_a"),
                                                k3_tensor([None, 32, 32, 4], "m_b")]])],
                 "input_layers": [["m_a", 0, 0], ["m_b", 0, 0]],
                 "output_layers": [["gate", 0, 0]]},
             "registered_name": "Functional", "name": "merge_block",
             "inbound_nodes": [{"args": [[k3_tensor([None, 32, 32, 4], "block"),
                                          k3_tensor([None, 32, 32, 4], "stem")]], "kwargs": {}}]}
    L = [k3_input("x", [None, 32, 32, 3]),
         k3_conv("stem", "x", [None, 32, 32, 3], 4),
         block, inner,
         k3_conv("out", "merge_block", [None, 32, 32, 4], 2, kernel=1, activation="softmax")]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "nested", "trainable": True, "layers": L,
                       "input_layers": [["x", 0, 0]], "output_layers": [["out", 0, 0]]},
            "registered_name": "Functional"}


# ------------------------------------------------- issue 15: real files ----
# Shapes real model.to_json() files have and the importer once refused.

def k2_input(name, shape):
    return {"class_name": "InputLayer",
            "config": {"batch_input_shape": shape, "dtype": "float32", "sparse": False,
                       "ragged": False, "name": name},
            "name": name, "inbound_nodes": []}


def k2_call(cls, name, refs, **config):
    """A Keras 2 layer called once with explicit [layer, node, tensor] references."""
    layer = k2_layer(cls, name, None, **config)
    layer["inbound_nodes"] = [[[src, node, tensor, {}] for src, node, tensor in refs]]
    return layer


def k2_pool(name, src, node=0, tensor=0, data_format="channels_last"):
    return k2_call("MaxPooling2D", name, [(src, node, tensor)], pool_size=[2, 2],
                   padding="valid", strides=[2, 2], data_format=data_format)


def k2_nested_encoder():
    """Keras 2 (tf.keras 2.x): a U-Net whose encoder is a nested Functional
    model 'model_4' returning its three levels (two skips and the bottleneck).
    The encoder itself nests a Sequential 'stem' (built with an InputLayer) —
    nesting two deep. Keras numbers a nested model's calls from 1 (node 0 is
    its own), so the outer references read [model_4, 1, k] and the encoder's
    [stem, 1, 0]."""
    stem = {"class_name": "Sequential",
            "config": {"name": "stem", "layers": [
                {"class_name": "InputLayer",
                 "config": {"batch_input_shape": [None, 64, 64, 3], "dtype": "float32",
                            "sparse": False, "ragged": False, "name": "stem_input"}},
                {"class_name": "Conv2D", "config": k2_conv("conv", None, 8)["config"]},
                {"class_name": "BatchNormalization",
                 "config": {"name": "bn", "trainable": True, "dtype": "float32", "axis": [3],
                            "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True}}]},
            "name": "stem", "inbound_nodes": [[["enc_in", 0, 0, {}]]]}
    enc_layers = [
        k2_input("enc_in", [None, 64, 64, 3]),
        stem,
        k2_call("Conv2D", "c1", [("stem", 1, 0)], **{k: v for k, v in k2_conv("c1", None, 8)["config"].items() if k != "name"}),
        k2_pool("p1", "c1"),
        k2_conv("c2", "p1", 16),
        k2_pool("p2", "c2"),
        k2_conv("c3", "p2", 32),
    ]
    encoder = {"class_name": "Functional",
               "config": {"name": "model_4", "layers": enc_layers,
                          "input_layers": [["enc_in", 0, 0]],
                          "output_layers": [["c1", 0, 0], ["c2", 0, 0], ["c3", 0, 0]]},
               "name": "model_4", "inbound_nodes": [[["image", 0, 0, {}]]]}
    L = [k2_input("image", [None, 64, 64, 3]), encoder,
         k2_call("Conv2DTranspose", "up2", [("model_4", 1, 2)], filters=16, kernel_size=[2, 2],
                 strides=[2, 2], padding="same", data_format="channels_last",
                 activation="linear", use_bias=True),
         k2_call("Concatenate", "cat2", [("up2", 0, 0), ("model_4", 1, 1)], axis=-1),
         k2_conv("d2", "cat2", 16),
         k2_call("Conv2DTranspose", "up1", [("d2", 0, 0)], filters=8, kernel_size=[2, 2],
                 strides=[2, 2], padding="same", data_format="channels_last",
                 activation="linear", use_bias=True),
         k2_call("Concatenate", "cat1", [("up1", 0, 0), ("model_4", 1, 0)], axis=-1),
         k2_conv("d1", "cat1", 8),
         k2_conv("head", "d1", 2, kernel=1, activation="softmax")]
    return {"class_name": "Functional",
            "config": {"name": "unet", "layers": L, "input_layers": [["image", 0, 0]],
                       "output_layers": [["head", 0, 0]]},
            "keras_version": "2.11.0", "backend": "tensorflow"}


def k3_nested_encoder():
    """The same in Keras 3's form: the encoder returns [skip, bottleneck] and
    the outer graph reads keras_history ["encoder", 1, k]."""
    enc = {"module": "keras.src.models.functional", "class_name": "Functional",
           "config": {"name": "encoder", "trainable": True, "layers": [
               k3_input("enc_in", [None, 32, 32, 3]),
               k3_conv("e1", "enc_in", [None, 32, 32, 3], 8),
               k3_layer("MaxPooling2D", "e_pool", [k3_tensor([None, 32, 32, 8], "e1")],
                        pool_size=[2, 2], padding="valid", strides=[2, 2],
                        data_format="channels_last"),
               k3_conv("e2", "e_pool", [None, 16, 16, 8], 16)],
               "input_layers": [["enc_in", 0, 0]],
               "output_layers": [["e1", 0, 0], ["e2", 0, 0]]},
           "registered_name": "Functional", "name": "encoder",
           "inbound_nodes": [{"args": [k3_tensor([None, 32, 32, 3], "x")], "kwargs": {}}]}
    L = [k3_input("x", [None, 32, 32, 3]), enc,
         k3_layer("UpSampling2D", "up", [k3_tensor([None, 16, 16, 16], "encoder", 1, 1)],
                  size=[2, 2], data_format="channels_last", interpolation="nearest"),
         k3_layer("Concatenate", "cat", [[k3_tensor([None, 32, 32, 16], "up"),
                                          k3_tensor([None, 32, 32, 8], "encoder", 1, 0)]],
                  axis=-1),
         k3_conv("out", "cat", [None, 32, 32, 24], 1, kernel=1, activation="sigmoid")]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "nested_encoder", "trainable": True, "layers": L,
                       "input_layers": [["x", 0, 0]], "output_layers": [["out", 0, 0]]},
            "registered_name": "Functional"}


def k2_multi_output_custom():
    """A custom layer (registered by the user's code, unknown here) that
    returns two tensors; the model reads both: [split, 0, 0] and [split, 0, 1]."""
    L = [k2_input("image", [None, 32, 32, 8]),
         k2_call("ChannelSplit", "split", [("image", 0, 0)], num_or_size_splits=2, axis=-1),
         k2_call("Conv2D", "left", [("split", 0, 0)],
                 **{k: v for k, v in k2_conv("left", None, 4)["config"].items() if k != "name"}),
         k2_call("Conv2D", "right", [("split", 0, 1)],
                 **{k: v for k, v in k2_conv("right", None, 4)["config"].items() if k != "name"}),
         k2_call("Add", "merge", [("left", 0, 0), ("right", 0, 0)])]
    return {"class_name": "Functional",
            "config": {"name": "split_model", "layers": L, "input_layers": [["image", 0, 0]],
                       "output_layers": [["merge", 0, 0]]},
            "keras_version": "2.11.0", "backend": "tensorflow"}


def k2_channels_first_unet():
    """A depth-2 U-Net written with keras.backend.set_image_data_format(
    'channels_first'): input (3, 64, 48), BatchNormalization(axis=1),
    Concatenate(axis=1), every spatial layer data_format='channels_first'."""
    cf = "channels_first"

    def conv(name, src, filters, kernel=3, activation="relu"):
        layer = k2_conv(name, src, filters, kernel=kernel, activation=activation)
        layer["config"]["data_format"] = cf
        return layer
    L = [k2_input("input_1", [None, 3, 64, 48]),
         conv("c1", "input_1", 8),
         k2_layer("BatchNormalization", "bn1", ["c1"], axis=[1], momentum=0.99, epsilon=0.001,
                  center=True, scale=True),
         k2_pool("p1", "bn1", data_format=cf),
         conv("c2", "p1", 16),
         k2_pool("p2", "c2", data_format=cf),
         conv("c3", "p2", 32),
         k2_layer("UpSampling2D", "u2", ["c3"], size=[2, 2], data_format=cf,
                  interpolation="nearest"),
         k2_layer("Concatenate", "cat2", ["u2", "c2"], axis=1),
         conv("d2", "cat2", 16),
         k2_layer("Conv2DTranspose", "u1", ["d2"], filters=8, kernel_size=[2, 2], strides=[2, 2],
                  padding="same", output_padding=None, data_format=cf, dilation_rate=[1, 1],
                  activation="linear", use_bias=True),
         k2_layer("Concatenate", "cat1", ["u1", "bn1"], axis=1),
         conv("d1", "cat1", 8),
         k2_layer("ZeroPadding2D", "pad", ["d1"], padding=[[1, 1], [0, 0]], data_format=cf),
         k2_layer("Cropping2D", "crop", ["pad"], cropping=[[1, 1], [0, 0]], data_format=cf),
         conv("head", "crop", 3, kernel=1, activation="linear"),
         k2_layer("Softmax", "softmax", ["head"], axis=1)]
    return {"class_name": "Functional",
            "config": {"name": "unet_cf", "layers": L, "input_layers": [["input_1", 0, 0]],
                       "output_layers": [["softmax", 0, 0]]},
            "keras_version": "2.11.0", "backend": "tensorflow"}


def k3_free_size():
    """A fully convolutional Keras 3 U-Net of depth 3 with Input(shape=(None,
    None, 3)) whose first convolution is 'valid' (it takes 2 pixels): the sizes
    that work are 8k + 2 (k ≥ 1), so 128 does not and 130 is the example."""
    s = [None, None, None]
    L = [k3_input("image", [None, None, None, 3])]
    L.append(k3_conv("c1", "image", s + [3], 8, padding="valid"))
    L.append(k3_layer("MaxPooling2D", "p1", [k3_tensor(s + [8], "c1")], pool_size=[2, 2],
                      padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k3_conv("c2", "p1", s + [8], 16))
    L.append(k3_layer("MaxPooling2D", "p2", [k3_tensor(s + [16], "c2")], pool_size=[2, 2],
                      padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k3_conv("c3", "p2", s + [16], 32))
    L.append(k3_layer("MaxPooling2D", "p3", [k3_tensor(s + [32], "c3")], pool_size=[2, 2],
                      padding="valid", strides=[2, 2], data_format="channels_last"))
    L.append(k3_conv("c4", "p3", s + [32], 64))
    prev, skips = "c4", ["c3", "c2", "c1"]
    for i, (skip, filters) in enumerate(zip(skips, [32, 16, 8])):
        L.append(k3_conv(f"up{i}", prev, s + [filters * 2], filters, kernel=2,
                         activation="linear", cls="Conv2DTranspose", strides=2))
        L.append(k3_layer("Concatenate", f"cat{i}", [[k3_tensor(s + [filters], f"up{i}"),
                                                      k3_tensor(s + [filters], skip)]], axis=-1))
        L.append(k3_conv(f"d{i}", f"cat{i}", s + [filters * 2], filters))
        prev = f"d{i}"
    L.append(k3_conv("head", prev, s + [8], 1, kernel=1, activation="sigmoid"))
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "free_size_unet", "trainable": True, "layers": L,
                       "input_layers": [["image", 0, 0]], "output_layers": [["head", 0, 0]]},
            "registered_name": "Functional"}


def k2_regularizer_flood(count=60):
    """tf.keras 2 Sequential of `count` convolutions, each with
    kernel_regularizer=l2(1e-4) (written as L2 with the float32 factor) and
    bias_regularizer=l2(1e-4): the shape of many public models."""
    reg = {"class_name": "L2", "config": {"l2": 9.999999747378752e-05}}
    layers = [{"class_name": "InputLayer",
               "config": {"batch_input_shape": [None, 32, 32, 3], "dtype": "float32",
                          "sparse": False, "ragged": False, "name": "conv_input"}}]
    for i in range(count):
        cfg = k2_conv(f"conv{i + 1}", None, 4)["config"]
        cfg["kernel_regularizer"] = reg
        cfg["bias_regularizer"] = reg
        layers.append({"class_name": "Conv2D", "config": cfg})
    return {"class_name": "Sequential", "config": {"name": "flood", "layers": layers},
            "keras_version": "2.11.0", "backend": "tensorflow"}


def write(name, doc, indent=1):
    with open(name, "w") as f:
        json.dump(doc, f, indent=indent)
        f.write("\n")


def bad():
    good = k2_unet_with_concat_bug()
    text = json.dumps(good)
    with open("bad/truncated.json", "w") as f:
        f.write(text[: len(text) // 2])
    dangling = k2_unet_with_concat_bug()
    dangling["config"]["layers"][4]["inbound_nodes"] = [[["max_pool_2d", 0, 0, {}]]]
    write("bad/dangling.json", dangling)
    cycle = k3_functional()
    # enc1 takes its input from dec1, which (through skip1) depends on enc1.
    cycle["config"]["layers"][2]["inbound_nodes"] = [
        {"args": [k3_tensor([None, 64, 64, 8], "dec1")], "kwargs": {}}]
    write("bad/cycle.json", cycle)
    unknown = k2_sequential()
    unknown["config"]["layers"][0]["config"]["filterz"] = 8
    unknown["extra_root_field"] = True
    write("bad/unknown_fields.json", unknown)
    cf = k2_unet_with_concat_bug()
    cf["config"]["layers"][1]["config"]["data_format"] = "channels_first"
    write("bad/channels_first.json", cf)
    wrong = k3_functional()
    wrong["config"]["layers"][2]["config"]["filters"] = "eight"
    write("bad/wrong_type.json", wrong)
    write("bad/not_a_model.json", {"format": "something-else", "layers": []})


if __name__ == "__main__":
    write("unet_keras2_concat_bug.json", k2_unet_with_concat_bug())
    write("sequential_keras2.json", k2_sequential())
    write("unet_keras3.json", k3_functional())
    write("unsupported_keras3.json", k3_functional(extra_unsupported=True))
    write("nested_keras3.json", k3_nested())
    write("nested_encoder_keras2.json", k2_nested_encoder())
    write("nested_encoder_keras3.json", k3_nested_encoder())
    write("multi_output_custom_keras2.json", k2_multi_output_custom())
    write("channels_first_unet_keras2.json", k2_channels_first_unet())
    write("free_size_keras3.json", k3_free_size())
    write("regularizer_flood_keras2.json", k2_regularizer_flood(), indent=None)
    # (the archive's zip timestamps change on every run: commit it only when its config did)
    with zipfile.ZipFile("unet_keras3.keras", "w") as z:
        z.writestr("metadata.json", json.dumps({"keras_version": "3.3.3", "date_saved": "2024-05-01"}))
        z.writestr("config.json", json.dumps(k3_functional()))
    bad()
