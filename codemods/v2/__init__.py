"""Azure ML v2 definitions (YAML): jobs, components, pipelines, environments; their edits, anchors, verification."""
