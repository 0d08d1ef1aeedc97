"""What okrsync renders for people: terminal tables, the status page, the HTML report, charts.

`status_data` reads what every view shows from the store; `status_html` and `report` render it
as HTML, `console` as terminal tables (through `terminal`, which shows any text as plain text);
`charts` draws SVG; `stale_key_results` and `quarantined_records` format what was held back.
"""
