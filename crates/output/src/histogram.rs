//! Log2 and HDR histograms.
