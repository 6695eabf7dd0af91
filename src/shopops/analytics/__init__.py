"""Read side: columnar store, metrics, segments, cohorts, lifetime value."""
