"""The SQL that thins pose tracks: every k-th pose of each (trial, entity) track, its last always kept.

Pose tables reach millions of rows; only about POINTS_PER_TRACK points per
track reach Python. Kept free of Django imports so that bench/open_overview.py
runs the very same query through psql as the floor to compare the page with.
"""

POINTS_PER_TRACK = 400

THINNED_TRACKS_SQL = """
    SELECT p.trial_id, p.entity_id, e.name, p.latitude, p.longitude, p.total
    FROM (
        SELECT trial_id, entity_id, latitude, longitude,
               row_number() OVER track AS position,
               count(*) OVER (PARTITION BY trial_id, entity_id) AS total
        FROM data_collection_pose
        WHERE trial_id = ANY(%(trials)s)
        WINDOW track AS (PARTITION BY trial_id, entity_id ORDER BY "timestamp", id)
    ) AS p
    JOIN data_collection_entity AS e ON e.id = p.entity_id
    WHERE (p.position - 1) %% GREATEST(1, CEIL(p.total / %(points)s::float)::bigint) = 0
       OR p.position = p.total
    ORDER BY p.trial_id, p.entity_id, p.position
"""
