"""The command line of the exported scripts.

The SEGFORGE_* names are placeholders: the exporter writes the project's values
in their place (core/export/script_common.cpp), and the framework's training
loop in place of the SEGFORGE_TRAIN line.
"""

import argparse

SEGFORGE_DESCRIPTION, SEGFORGE_WEIGHTS = "Train", None
SEGFORGE_EPOCHS, SEGFORGE_LR, SEGFORGE_SEED = 10, 0.001, 0
SEGFORGE_TRAIN = None

# --- SegForge embeds the lines below in exported scripts ---


def main():
    parser = argparse.ArgumentParser(description=SEGFORGE_DESCRIPTION)
    parser.add_argument("--data", required=True, help="folder holding the image and mask folders")
    parser.add_argument("--weights", default=SEGFORGE_WEIGHTS, help="SegForge weights, a .safetensors file")
    parser.add_argument("--epochs", type=int, default=SEGFORGE_EPOCHS)
    parser.add_argument("--lr", type=float, default=SEGFORGE_LR)
    parser.add_argument("--seed", type=int, default=SEGFORGE_SEED)
    args = parser.parse_args()
    SEGFORGE_TRAIN


if __name__ == "__main__":
    main()
