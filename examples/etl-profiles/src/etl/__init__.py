"""A small ETL platform: a webserver, a scheduling daemon and a run worker on one image."""
