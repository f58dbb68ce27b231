-- What a connector found about a source itself rather than a row (e.g. a double-opt-in list in
-- listmonk while the opt-in IP is not recorded).
SELECT source, finding, subject FROM source_findings ORDER BY source, finding, subject;
