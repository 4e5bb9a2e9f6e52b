"""numba kernels: plain arrays in, arrays out, no global state, no ``np.random``."""
