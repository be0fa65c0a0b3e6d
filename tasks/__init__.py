"""Pipeline stages: one module per stage, each a pure batch function plus a thin `@task`."""
