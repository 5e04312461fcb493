"""Stock feed processing: S3 notifications -> parsed feed lines -> exactly-once restocks -> reports."""
