"""What the front ends share to put Shēma's data into words: refusals in Latvian and
English, tables, CSV and Markdown, the table of project verbs. Nothing here reads the
database or decides a rule; the engine never imports it."""
