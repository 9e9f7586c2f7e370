//! Fused recurrent ops (LSTM and GRU sequences).
