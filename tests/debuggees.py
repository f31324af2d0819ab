"""Small training scripts for the end-to-end tests to instrument and debug.

Each has a ``# BREAK`` line inside ``train()`` where a test sets its
breakpoint, with ``learning_rate`` a local there.
"""

# A plain script: the helper runs in standalone mode and reads sys.argv.
STANDALONE = '''\
import sys


def train():
    learning_rate = 0.125
    epochs = 3
    result = learning_rate * epochs  # BREAK
    return result


print("argv", sys.argv[1:])
print("final result", train())
'''

# An argparse script: the flags join its parser and the helper gets ``args``.
WITH_PARSER = '''\
import argparse


def train(args):
    learning_rate = args.learning_rate
    epochs = 3
    result = learning_rate * epochs  # BREAK
    return result


parser = argparse.ArgumentParser()
parser.add_argument("--learning_rate", type=float, default=0.125)
args = parser.parse_args()
print("final result", train(args))
'''

FINAL = "final result 0.375"
