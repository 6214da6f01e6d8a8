"""Hand-written helpers shared by the generated DAGs: alerts, deadlines and date partitions.

DAG files only orchestrate; anything with logic lives here (or in the `train` CLI) and is tested.
"""
