"""`lethe report` speaks the site's language: `language:` of lethe.yaml
(fi, sv) when --language is not given, --language overrides it, the site's
language wins over the locale (LANG), and without either the page is in
English. Checked on the page's own headings (the title, the verification
section, the requests table), in each language, and that no other
language's headings are on it."""
import os
import re
from lethe_e2e import check, equal, finish, run
from lethe_officer_e2e import Site

HEADINGS = {
    "en": ["Retention and disposal report", "Verification of the evidence", "Requests of data subjects"],
    "fi": ["Säilytys- ja hävitysraportti", "Todisteiden tarkastus", "Rekisteröityjen pyynnöt"],
    "sv": ["Rapport om lagring och gallring", "Verifiering av bevisen", "De registrerades begäranden"],
}

s = Site(customers=50)
d, cfg = s.d, s.cfg
base_cfg = open(cfg, encoding="utf-8").read()
env_c = dict(os.environ, LANG="C", LC_ALL="", LC_MESSAGES="")


def site(language):
    with open(cfg, "w", encoding="utf-8") as f:
        f.write(base_cfg + (f"language: {language}\n" if language else ""))


def report(name, *args, env=env_c):
    out_dir = os.path.join(d, name)
    rc, out, err = run("-c", cfg, "report", "--html", out_dir, "--as-of", "2026-01-01", *args, env=env)
    equal(rc, 0, f"{name}: report ({err.strip()})")
    path = os.path.join(out_dir, "index.html")
    return open(path, encoding="utf-8").read() if os.path.exists(path) else ""


def headings(page):
    return [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r"<h[12][^>]*>(.*?)</h[12]>", page, re.S)]


def speaks(name, page, lang):
    got = headings(page)
    check(re.search(rf'<html lang="{lang}"', page) is not None, f"{name}: the page says lang=\"{lang}\"")
    for h in HEADINGS[lang]:
        check(h in got, f"{name}: heading '{h}' is on the page (headings: {got[:4]})")
    for other, hs in HEADINGS.items():
        if other != lang:
            check(not any(h in got for h in hs), f"{name}: no {other} heading on the page")


site("fi")
speaks("site fi", report("fi"), "fi")
speaks("site fi, --language en", report("fi-en", "--language", "en"), "en")
speaks("site fi, --language sv", report("fi-sv", "--language", "sv"), "sv")
site("sv")
speaks("site sv", report("sv"), "sv")
speaks("site sv, LANG=fi_FI.UTF-8", report("sv-locale", env=dict(env_c, LANG="fi_FI.UTF-8")), "sv")
site(None)
speaks("no site language", report("none"), "en")
speaks("no site language, LANG=sv_SE.UTF-8", report("none-sv", env=dict(env_c, LANG="sv_SE.UTF-8")), "sv")

# A language the report does not have is a usage error naming it.
rc, out, err = run("-c", cfg, "report", "--html", os.path.join(d, "de"), "--language", "de", env=env_c)
equal(rc, 64, "--language de: usage error")
check("'de'" in err, f"--language de: the message names it ({err.strip()})")
finish()
