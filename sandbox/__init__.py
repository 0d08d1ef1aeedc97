"""Local emulators of the CRM APIs (Salesforce and HubSpot), seeded with a deterministic sample sales org.

Used by tests and `okrsync demo`; they serve the real wire protocols on 127.0.0.1 so the real
connector code runs against them unchanged.
"""
