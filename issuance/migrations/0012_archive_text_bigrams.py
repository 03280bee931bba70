"""Archive full-text search at scale, on PostgreSQL: an index of every record's character
bigrams (two characters side by side; Chinese has no spaces between words, and a word of two
characters is the shortest one searched for), so that a search reads the records holding
all of the term's bigrams off a GIN index instead of scanning every text. The LIKE of the
search stays: it confirms that the bigrams stand side by side, as the term.

`gongwen_bigrams(text)` is the distinct bigrams of the lower-cased text that hold no white
space; the same function gives a search term's, so that both sides always agree. A record's
are kept in a generated column, `search_grams` (PostgreSQL computes it when the record is
written; the model does not know it), so that testing a row costs no function call: a
search for a phrase found in every record walks the archive list's index and tests rows
until the page is full. SQLite has no such column: there the LIKE alone searches (an
embedded deployment is small)."""

from django.db import migrations

FUNCTION = r"""
CREATE OR REPLACE FUNCTION gongwen_bigrams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE COST 500 AS $$
    SELECT coalesce(array_agg(DISTINCT gram), '{}')
    FROM (SELECT substr(lower(value), i, 2) AS gram FROM generate_series(1, char_length(value) - 1) AS i) AS grams
    WHERE gram !~ '\s'
$$
"""
COLUMN = ("ALTER TABLE issuance_archiverecord ADD COLUMN search_grams text[] "
          "GENERATED ALWAYS AS (gongwen_bigrams(full_text)) STORED")
INDEX = "CREATE INDEX archive_text_bigrams ON issuance_archiverecord USING gin (search_grams)"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)
        schema_editor.execute(COLUMN)
        schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS archive_text_bigrams")
        schema_editor.execute("ALTER TABLE issuance_archiverecord DROP COLUMN IF EXISTS search_grams")
        schema_editor.execute("DROP FUNCTION IF EXISTS gongwen_bigrams(text)")


class Migration(migrations.Migration):
    dependencies = [("issuance", "0011_archive_fonds_order")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
