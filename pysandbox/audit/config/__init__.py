"""Config auditor: docker-compose, Kubernetes, OCI config.json, docker inspect and pysandbox profiles
checked for risky mounts and privileges (`pysandbox audit config`)."""
