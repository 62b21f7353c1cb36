"""The SQL that thins pose tracks: every k-th pose of each (trial, entity) track, its last always kept.

Pose tables reach millions of rows; only about POINTS_PER_TRACK points per
track reach Python. Kept free of Django imports so that bench/open_overview.py
runs the very same query through psql as the floor to compare the page with.
"""

POINTS_PER_TRACK = 400

# Poses are PostGIS points in WGS 84 (SRID 4326): ST_Y is the latitude, ST_X the longitude.
# An entity's colour is its place among all entities by name: the same in every trial and on
# every page, and neighbours in the list never share one (entities are keyed by name).
THINNED_TRACKS_SQL = """
    SELECT p.trial_id, p.entity_id, e.colour, ST_Y(p.point), ST_X(p.point), p.total
    FROM (
        SELECT trial_id, entity_id, point,
               row_number() OVER track AS position,
               count(*) OVER (PARTITION BY trial_id, entity_id) AS total
        FROM data_collection_pose
        WHERE trial_id = ANY(%(trials)s)
        WINDOW track AS (PARTITION BY trial_id, entity_id ORDER BY "timestamp", id)
    ) AS p
    JOIN (
        SELECT name, row_number() OVER (ORDER BY name) - 1 AS colour FROM data_collection_entity
    ) AS e ON e.name = p.entity_id
    WHERE (p.position - 1) %% GREATEST(1, CEIL(p.total / %(points)s::float)::bigint) = 0
       OR p.position = p.total
    ORDER BY p.trial_id, p.entity_id, p.position
"""
