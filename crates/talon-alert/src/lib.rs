//! Kibana-shaped alerts and their writers.
