"""A year of the reference shop for the report's test and screenshots: demo +
init with the site's own copy of the policies, runs over the past year (every
`step` days), a policy change half-way, holds placed by named people,
requests answered in time, late and open, an erasure and an access export."""
import datetime
import os
import shutil
from lethe_e2e import SOURCE, run, write

# Customers of the demo still active at the end of the year, so that the runs
# leave them in the register (an account inactive for 3 years is deleted once
# no voucher refers to it): one held, one erased, one exported.
HELD, ERASED, EXPORTED = "18", "17", "19"


def year_of_runs(d, customers=120, step=30):
    """(lethe.yaml, database, evidence, policies folder) after the year."""
    shop = os.path.join(d, "shop")
    rc, out, err = run("-q", "demo", shop, "--customers", str(customers))
    assert rc == 0, err
    os.remove(os.path.join(shop, "lethe.yaml"))
    policies = os.path.join(d, "policies")
    shutil.copytree(os.path.join(SOURCE, "policies"), policies)
    db = os.path.join(shop, "shop.sqlite")
    rc, out, err = run("-q", "init", shop, "--database", db, "--policies", policies)
    assert rc == 0, err
    cfg = os.path.join(shop, "lethe.yaml")
    today = datetime.date.today()
    first = today - datetime.timedelta(days=364)
    days = list(range(0, 365, step))
    if days[-1] != 364:
        days.append(364)
    for n, i in enumerate(days):
        if n == len(days) // 2:  # page events kept for 12 months instead of 14
            path = os.path.join(policies, "50-analytics.yaml")
            text = open(path).read()
            assert "retain: 14 months" in text, path
            write(path, text.replace("retain: 14 months", "retain: 12 months"))
        rc, out, err = run("-q", "-c", cfg, "run", "--as-of", str(first + datetime.timedelta(days=i)))
        assert rc == 0, err
    ago = lambda n: str(today - datetime.timedelta(days=n))
    env = {"SUDO_USER": ""}
    assert run("-q", "-c", cfg, "hold", "add", "--rule", "complaints", "--reason",
               "consumer dispute board case 2026/118", "--by", "dpo@minime.fi", env=env)[0] == 0
    assert run("-q", "-c", cfg, "hold", "add", "--subject", HELD, "--reason", "court order 55/2026",
               "--by", "legal@minime.fi", "--until", ago(-200), env=env)[0] == 0
    assert run("-q", "-c", cfg, "hold", "release", "1", "--reason", "dispute settled", "--by",
               "dpo@minime.fi", env=env)[0] == 0
    assert run("-q", "-c", cfg, "requests", "add", "--kind", "erasure", "--subject", ERASED,
               "--received", ago(12))[0] == 0
    assert run("-q", "-c", cfg, "erase", "--subject", ERASED, "--by", "cs@minime.fi")[0] == 0
    out_zip = os.path.join(d, "export.zip")
    assert run("-q", "-c", cfg, "access", "--subject", EXPORTED, "--output", out_zip, "--received",
               ago(40), "--by", "cs@minime.fi")[0] == 0
    assert run("-q", "-c", cfg, "requests", "add", "--kind", "access", "--subject", "13",
               "--received", ago(5))[0] == 0
    assert run("-q", "-c", cfg, "requests", "add", "--kind", "erasure", "--subject", "14",
               "--received", ago(45))[0] == 0
    return cfg, db, os.path.join(shop, "evidence"), policies
