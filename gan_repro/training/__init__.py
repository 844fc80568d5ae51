"""The GradientTape trainer core, the family step functions, checkpoints and logging."""

from gan_repro.training.coupled import CoupledConfig, CoupledGAN
from gan_repro.training.cyclegan import CycleGAN, CycleGANConfig  # noqa: F401
from gan_repro.training.family import Family, GradientRouter
from gan_repro.training.image_gan import ImageGAN, ImageGANConfig  # noqa: F401
from gan_repro.training.toy import ToyGAN, ToyGANConfig  # noqa: F401
from gan_repro.training.trainer import Trainer, TrainerOptions
from gan_repro.training.unit import UNIT, UNITConfig  # noqa: F401

__all__ = ["CoupledConfig", "CoupledGAN", "Family", "GradientRouter", "Trainer", "TrainerOptions"]
