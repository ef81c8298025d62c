//! Counter-based random numbers shared by the CPU and GPU paths.
