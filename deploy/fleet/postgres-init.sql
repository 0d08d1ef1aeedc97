-- One database per org of fleet.yaml (its YAML's `store:`), created when the database volume is
-- first initialised. For an org added later: docker compose exec db createdb -U okrsync okrsync_<org>
CREATE DATABASE okrsync_acme OWNER okrsync;
CREATE DATABASE okrsync_globex_eu OWNER okrsync;
