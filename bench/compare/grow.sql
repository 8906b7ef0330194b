-- Grows a demo database to about a million published observations: 2,500 generated villages under the
-- demo townships, every indicator for 2016–2025, all-totals rows, approved and in force. Run after
-- `childhub seed --demo`; the hub reads its catalogue afresh at start, so no event is needed here.
BEGIN;
INSERT INTO region (code, name_zh, name_en, level, residence, parent_id)
SELECT 'GEN-V' || lpad(g::text, 4, '0'),
       '生成村' || g,
       'Generated village ' || g,
       'village',
       'R',
       (SELECT id FROM region WHERE code = 'DEMO-T' || lpad(((g % 15) + 1)::text, 2, '0'))
FROM generate_series(1, 2500) AS g;

INSERT INTO observation (indicator_id, region_id, year, sex, age_group, residence, value, numerator,
                         denominator, status, revision, is_latest, is_published, created_by, created_at)
SELECT i.id, r.id, y, '_T', '_T', '_T',
       round((50 + 40 * sin(i.id * 7 + r.id * 13 + y))::numeric, 1),
       NULL, NULL, 'approved', 1, true, true, 'bench', now()
FROM indicator i
CROSS JOIN region r
CROSS JOIN generate_series(2016, 2025) AS y
WHERE r.code LIKE 'GEN-V%';
COMMIT;
ANALYZE;
