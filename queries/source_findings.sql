-- What a reader found about a source itself rather than a row (e.g. a double-opt-in list in listmonk
-- while the opt-in IP is not recorded; the helpdesk's own deletion rule), for one page: $codes are
-- the findings it shows (dashboard.schema.SOURCE_FINDINGS).
SELECT source, finding, subject FROM source_findings WHERE list_contains($codes, finding)
ORDER BY source, finding, subject;
