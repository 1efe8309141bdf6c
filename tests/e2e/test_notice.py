"""`lethe notice` on the reference policies: the Finnish privacy notice names
every purpose, category, recipient, source, security measure, right and cookie of the
seed notice (the list in data/seed_notice_terms.txt, taken from
/work/shared/seed/rekisteriseloste.txt), brought up to date (GDPR, the
Tietosuojavaltuutettu, no henkilötietolaki); Markdown and HTML say the same
in three languages; the record of processing names every rule with its
period; lethe.yaml's language is the default; bad declarations are faults
with FILE:LINE in `check` and `notice`, and nothing is written."""
import html.parser
import os
import re
import shutil
from lethe_e2e import SOURCE, check, equal, finish, run, tmpdir, write

POLICIES = os.path.abspath(os.path.join(SOURCE, "policies"))
d = tmpdir()


def notice(*args, cwd=d):
    rc, out, err = run("notice", "--policies", POLICIES, *args, cwd=cwd)
    equal(rc, 0, f"notice {' '.join(args)} exits 0 ({err.strip()})")
    return out


def terms():
    """{section: [term]} of the seed list."""
    sections, name = {}, None
    with open(os.path.join(SOURCE, "tests", "e2e", "data", "seed_notice_terms.txt"), encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                name = line.strip("[]")
                sections[name] = []
            else:
                sections[name].append(line)
    return sections


class Text(html.parser.HTMLParser):
    """The text of an HTML document, and whether its tags nest."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text, self.stack, self.bad = [], [], []

    def handle_starttag(self, tag, attrs):
        if tag not in ("meta", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack.pop() != tag:
            self.bad.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def html_text(doc):
    p = Text()
    p.feed(doc)
    p.close()
    check(not p.bad and not p.stack, f"the HTML's tags nest ({p.bad} {p.stack})")
    return "".join(p.text)


def md_text(doc):
    return doc.replace("\\", "")


seed = terms()
check(sum(len(v) for v in seed.values()) > 50, "the seed list is read")
fi_md = md_text(notice("--lang", "fi"))
fi_html_doc = notice("--lang", "fi", "--format", "html")
fi_html = html_text(fi_html_doc)
check(fi_html_doc.startswith("<!DOCTYPE html>") and '<html lang="fi">' in fi_html_doc,
      "the HTML is a whole document in Finnish")
for form, text in (("md", fi_md), ("html", fi_html)):
    low = " ".join(text.lower().split())
    for section, items in seed.items():
        missing = [t for t in items if t.lower() not in low]
        check(not missing, f"fi {form}: the notice names every {section} term of the seed: missing {missing}")
    check("henkilötietolaki" not in low, f"fi {form}: no repealed henkilötietolaki")
    for must in ("gdpr", "tietosuojavaltuutetun toimisto", "tietosuoja@minime.fi",
                 "10 vuotta tilikauden päättymisestä",
                 "kirjanpitolaki 1336/1997 2 luku 10 §", "vakiosopimuslausekkeisiin"):
        check(must in low, f"fi {form}: the notice says {must!r}")

# Every holding outside the register the review named is declared with its
# purpose, legal basis and period; the cookie texts and the analytics rule
# cite 917/2014 205 §.
en_md = md_text(notice("--lang", "en"))
outside = en_md.split("## Data not kept in this register\n", 1)[-1].split("\n## ", 1)[0]
for name in ("Data required by partnership agreements", "Offers made to a customer",
             "Names and addresses of free-magazine recipients", "Printouts", "Google Analytics data",
             "Facebook Pixel data", "Chat messages on the chat service's servers", "Cookie consents"):
    line = next((l for l in outside.split("\n") if l.startswith(f"- **{name}")), "")
    check(re.search(r"Purpose: .+, [a-z ]+ \(GDPR art\. 6\(1\)\([a-f]\)\)\. How long: \S", line),
          f"outside the register: {name!r} with purpose, basis and period ({line[:120]!r})")
cookies = en_md.split("## Cookies\n", 1)[-1].split("\n## ", 1)[0]
check("917/2014 205 §" in cookies, "the cookie section cites Laki sähköisen viestinnän palveluista 205 §")
check(re.search(r"^- 14 months, then masked \(Laki sähköisen viestinnän palveluista 917/2014 205 §", en_md, re.M),
      "the web analytics rule cites 205 §")

# Every recipient in every language, with the language's own headings.
for lang, heading in (("sv", "Register- och dataskyddsbeskrivning"), ("en", "Privacy notice")):
    for fmt in ("md", "html"):
        doc = notice("--lang", lang, "--format", fmt)
        text = md_text(doc) if fmt == "md" else html_text(doc)
        check(heading in text, f"{lang} {fmt}: headed {heading!r}")
        for r in seed["recipients"]:
            check(r.lower() in text.lower(), f"{lang} {fmt}: names {r}")
        check("Omat tiedot" not in text or lang == "fi", f"{lang} {fmt}: no Finnish phrase left")
check("Minime.fi:s kundregister" in notice("--lang", "sv"), "sv: the register's Swedish name")

# The record of processing: every rule, its table and period.
record = md_text(notice("--record", "--lang", "en"))
check(record.startswith("# Record of processing activities (GDPR art. 30(1))"), "the record is headed")
for m in re.finditer(r"^  - name: ([a-z0-9-]+)$", "".join(
        open(os.path.join(POLICIES, f), encoding="utf-8").read() for f in sorted(os.listdir(POLICIES))), re.M):
    check(f"rule {m.group(1)}," in record, f"the record names rule {m.group(1)}")
check("Technical and organisational security measures" in record, "the record names the security measures")
check("10 years from the end of the financial year, then deleted" in record, "the record gives periods")
record_html = html_text(notice("--record", "--lang", "fi", "--format", "html"))
check("sales-journal" in record_html and "Kirjanpitolaki 1336/1997 2 luku 10 §" in record_html,
      "the record in HTML (Finnish) names the rules and their statutes")

# --output replaces a file; lethe.yaml's language is the default.
out = os.path.join(d, "notice.html")
rc, _, err = run("notice", "--policies", POLICIES, "--format", "html", "--output", out, "--lang", "sv")
equal(rc, 0, "notice --output")
check("Dataombudsmannens byrå" in open(out, encoding="utf-8").read(), "the file is the Swedish notice")
check(not os.path.exists(out + ".tmp"), "no temporary file is left")
write(os.path.join(d, "lethe.yaml"), f"database: {d}/none.sqlite\npolicies: {POLICIES}\nlanguage: fi\n")
rc, out_fi, err = run("-c", os.path.join(d, "lethe.yaml"), "notice")
equal(rc, 0, f"notice with lethe.yaml ({err.strip()})")
check(out_fi.startswith("# Rekisteri- ja tietosuojaseloste"), "lethe.yaml's language: fi is the default")

# Bad input: unknown language, format, a missing translation, a second basis,
# an unknown purpose, a table in no category.
rc, _, err = run("notice", "--policies", POLICIES, "--lang", "de")
equal(rc, 64, f"--lang de is a usage error ({err.strip()})")
rc, _, err = run("notice", "--policies", POLICIES, "--format", "pdf")
equal(rc, 64, "--format pdf is a usage error")
bad = os.path.join(d, "bad")
shutil.copytree(POLICIES, bad)
path = os.path.join(bad, "90-declarations.yaml")
text = open(path, encoding="utf-8").read()
lines = text.split("\n")
sv_line = next(i for i, l in enumerate(lines) if l.strip() == "sv: Minime.fi:s kundregister")
text = text.replace("    sv: Minime.fi:s kundregister\n", "", 1)
text = text.replace("      basis: contract\n", "      basis: [contract, consent]\n", 1)
text = text.replace("      purpose: analytics\n      criteria:", "      purpose: analysis\n      criteria:", 1)
text = text.replace("tables: [chat_transcripts, feedback]", "tables: [chat_transcripts]")
write(path, text)
service = os.path.join(bad, "40-service.yaml")
stext = open(service, encoding="utf-8").read()
lines_s = stext.split("\n")
start = lines_s.index("  - name: complaints")
kb_line = start + lines_s[start:].index("    kept_because:") + 2  # its first text's line, 1-based
write(service, stext.replace("      sv: din reklamation fortfarande behandlas (ett rättsligt anspråk kan följa)\n", "", 1))
rc, out, err = run("notice", "--policies", bad, "--output", os.path.join(d, "never.md"))
equal(rc, 65, f"notice refuses faulty declarations ({err.strip()})")
check(not os.path.exists(os.path.join(d, "never.md")), "nothing is written")
for want in (f"90-declarations.yaml:{sv_line}:5: 'register': missing the 'sv' translation",
             "'basis': one legal basis per purpose",
             "'purpose': 'analysis' is not a declared purpose",
             "40-service.yaml:", "table 'feedback' holds data subjects' data but is in no declared category"):
    check(want in err, f"the faults name {want!r}: {err}")
shop = os.path.join(d, "shop")
rc, _, err = run("demo", shop, "--customers", "20", "--policies", bad)
rc, _, err = run("-c", os.path.join(shop, "lethe.yaml"), "check")
equal(rc, 65, "check reports the same faults")
check("missing the 'sv' translation" in err and "one legal basis per purpose" in err, f"check: {err}")
check(f"40-service.yaml:{kb_line}:7: rule 'complaints': 'kept_because' has no 'sv' text" in err,
      f"check: a kept_because without its Swedish text is a fault at its line: {err}")

# Declared text is text, never markup: escaped in HTML and in Markdown.
odd = os.path.join(d, "odd")
shutil.copytree(POLICIES, odd)
path = os.path.join(odd, "90-declarations.yaml")
write(path, open(path, encoding="utf-8").read().replace(
    "en: Minime.fi customer register", "en: 'Shop <script>x</script> & *bold* | [a](b)'", 1))
rc, out, err = run("notice", "--policies", odd, "--lang", "en", "--format", "html")
equal(rc, 0, f"notice with markup in a text ({err.strip()})")
check("&lt;script&gt;x&lt;/script&gt; &amp; *bold*" in out and "<script>" not in out,
      "HTML escapes the declared text")
rc, out, err = run("notice", "--policies", odd, "--lang", "en")
check("Shop \\<script\\>x\\</script\\> & \\*bold\\* \\| \\[a\\](b)" in out,
      f"Markdown escapes the declared text: {out.splitlines()[2]!r}")

# Without declarations there is no notice.
plain = os.path.join(d, "plain")
os.makedirs(plain)
shutil.copy(os.path.join(POLICIES, "00-register.yaml"), plain)
rc, _, err = run("notice", "--policies", plain)
equal(rc, 65, "no declarations: no notice")
check("no 'declarations'" in err, f"and it says why: {err.strip()}")
finish()
