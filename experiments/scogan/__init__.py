"""Experiments of the SCoGAN thesis (Juul-Nyholm & Alminde 2020), spec 001_scogan.md."""
