//! The slow-responses line (`--slow-ms`, default 2000): how many answers took longer than the
//! threshold, with the p50 and the maximum of all response times and the slowest checks.
//! Entra times requests out and retries them in the next cycle, so a slow endpoint shows as
//! `Timeout` errors in the provisioning logs long before it fails a check here.

/// The line, or `None` when no response was slower than `threshold_ms`. `latencies` are
/// (check id, milliseconds) for every response received.
pub fn summarise(latencies: &[(String, f64)], threshold_ms: u64) -> Option<String> {
    let threshold = threshold_ms as f64;
    let mut slow: Vec<&(String, f64)> =
        latencies.iter().filter(|(_, ms)| *ms > threshold).collect();
    if slow.is_empty() {
        return None;
    }
    let mut all: Vec<f64> = latencies.iter().map(|(_, ms)| *ms).collect();
    all.sort_by(f64::total_cmp);
    let p50 = all[(all.len() - 1) / 2];
    let max = all[all.len() - 1];
    slow.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut names: Vec<&str> = Vec::new();
    for (id, _) in &slow {
        if !names.contains(&id.as_str()) {
            names.push(id);
        }
    }
    let shown = names.len().min(3);
    let more = if names.len() > shown {
        format!(" and {} more", names.len() - shown)
    } else {
        String::new()
    };
    Some(format!(
        "slow responses: {} of {} took longer than {threshold_ms} ms (p50 {p50:.0} ms, max {max:.0} ms): {}{more}",
        slow.len(),
        latencies.len(),
        names[..shown].join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(v: &[(&str, f64)]) -> Vec<(String, f64)> {
        v.iter().map(|(i, ms)| (i.to_string(), *ms)).collect()
    }

    #[test]
    fn nothing_is_said_when_every_response_is_fast_enough() {
        assert_eq!(summarise(&l(&[("a", 5.0), ("b", 2000.0)]), 2000), None);
        assert_eq!(summarise(&[], 2000), None);
    }

    #[test]
    fn slow_responses_are_counted_with_p50_max_and_the_slowest_checks() {
        let line = summarise(
            &l(&[
                ("a", 10.0),
                ("b", 2500.0),
                ("c", 12.0),
                ("d", 3100.0),
                ("b", 2600.0),
            ]),
            2000,
        )
        .unwrap();
        assert_eq!(
            line,
            "slow responses: 3 of 5 took longer than 2000 ms (p50 2500 ms, max 3100 ms): d, b"
        );
    }
}
