"""Errors written for people: each one says what is wrong, which file or name, and the fix."""


class GanReproError(Exception):
    """Base class of every error the suite raises on purpose."""


class DatasetMissingError(GanReproError, FileNotFoundError):
    """A dataset is not where it was looked for (local files, TFDS cache, bundled sample)."""


class CorruptDataError(GanReproError, ValueError):
    """A data file exists but cannot be read, or its content is not what its format promises."""


class WeightsMissingError(GanReproError, FileNotFoundError):
    """A pretrained weights file (VGG19, a classifier, ...) is missing and cannot be fetched."""


class BadOptionError(GanReproError, ValueError):
    """An option has a value outside its valid choices."""


class TrainingDivergedError(GanReproError, FloatingPointError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""


def check_choice(name: str, value, choices) -> None:
    """Refuse ``value`` for option ``name`` unless it is one of ``choices``, listing them."""
    choices = list(choices)
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise BadOptionError(f"{name}={value!r} is not a valid choice; choose one of: {listed}")
