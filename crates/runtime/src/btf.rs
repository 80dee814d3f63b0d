//! Kernel BTF: struct member offsets of the running kernel.
