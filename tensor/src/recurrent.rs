//! Fused recurrent-cell kernels (LSTM and GRU gates).
