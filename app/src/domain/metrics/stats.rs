//! The three summaries PRODUCT.md names, over durations in milliseconds.

/// The middle value; of an even count, the mean of the two middle values. `None` when empty.
pub fn median(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    values.sort_unstable();
    let middle = values[n / 2] as f64;
    Some(if n % 2 == 1 {
        middle
    } else {
        (values[n / 2 - 1] as f64 + middle) / 2.0
    })
}

/// The nearest-rank 90th percentile: the value of rank ⌈0.9·n⌉ (1-based) of the sorted values.
pub fn p90(values: &mut [i64]) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    values.sort_unstable();
    // ⌈9n/10⌉ in integers, so no float rounding moves the rank.
    let rank = (9 * n).div_ceil(10);
    Some(values[rank - 1] as f64)
}

pub fn mean(values: &[i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let sum: i128 = values.iter().map(|&v| i128::from(v)).sum();
    Some(sum as f64 / values.len() as f64)
}

/// `part / whole`, or `None` when there is nothing to divide by.
pub fn ratio(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}
