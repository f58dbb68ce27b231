-- Assignees that appear in the register (filter options).
SELECT DISTINCT assignee FROM requests WHERE assignee IS NOT NULL ORDER BY assignee;
