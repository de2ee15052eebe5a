//! The rows of a Gram matrix or a witness check spread over the machine's threads, with the
//! results in row order: every row is computed exactly as it would be on one thread, and
//! the caller combines them in order, so a verdict never depends on the thread count.

/// `f(0), ..., f(n - 1)`, in that order, computed on up to `available_parallelism` scoped
/// threads (rows dealt round-robin: the rows of a triangle shrink, so neighbours balance).
/// One thread, or a single row, runs in place.
pub(super) fn map_rows<T, F>(n: usize, f: F) -> Vec<T>
where
    T: Send,
    F: Fn(usize) -> T + Sync,
{
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(n);
    if threads <= 1 {
        return (0..n).map(f).collect();
    }
    let f = &f;
    let parts: Vec<Vec<T>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| scope.spawn(move || (t..n).step_by(threads).map(f).collect::<Vec<T>>()))
            .collect();
        handles
            .into_iter()
            // A panic in a row is the same panic as on one thread.
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    // Row a is item a / threads of part a % threads.
    let mut parts: Vec<std::vec::IntoIter<T>> = parts.into_iter().map(Vec::into_iter).collect();
    let mut out = Vec::with_capacity(n);
    for a in 0..n {
        if let Some(x) = parts
            .get_mut(a.checked_rem(threads).unwrap_or(0))
            .and_then(Iterator::next)
        {
            out.push(x);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::map_rows;

    #[test]
    fn rows_come_back_in_order() {
        for n in [0, 1, 2, 3, 17, 1000] {
            let squares = map_rows(n, |a| a * a);
            assert_eq!(squares, (0..n).map(|a| a * a).collect::<Vec<_>>());
        }
    }
}
