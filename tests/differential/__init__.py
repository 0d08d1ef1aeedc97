"""The end-to-end differential test: generated sandbox orgs, full cycles, and every written field
against an oracle computed from the sandbox's raw records.

- `scenario`: the seeded generator (CRM-neutral orgs and their YAML key results);
- `seed_salesforce`, `seed_hubspot`: a scenario into a sandbox through its seeding API, and the
  edits made between the two cycles;
- `config_yaml`: the YAML of a scenario;
- `oracle`, `oracle_measure`, `oracle_records`: the expected field values from raw records,
  sharing no code with syncer/ or connectors/ (test_oracle_imports);
- `harness`: one org end to end, the comparison and the failure message.
"""
