/*
 * demo_words.c - the built-in Finnish word lists of the reference shop
 * (Minime.fi sells children's clothing) and the text helpers that use them.
 *
 * Invariants: constant data only; all names are common Finnish names, all
 * e-mail domains are the reserved example.* ones (RFC 2606), so the synthetic
 * register can never name or reach a real mailbox.
 */
#include <stdio.h>
#include <string.h>
#include "demo_words.h"

const char *const demo_first_names[] = {
	"Aino", "Eino", "Emma", "Elias", "Helmi", "Oliver", "Aada", "Leo", "Sofia",
	"Väinö", "Olivia", "Onni", "Lilja", "Eetu", "Venla", "Mikko", "Anna", "Juha",
	"Laura", "Timo", "Sanna", "Jari", "Kaisa", "Pekka", "Minna", "Ville", "Tiina",
	"Antti", "Johanna", "Matti", "Riikka", "Jussi", "Hanna", "Tuomas", "Päivi",
	"Sami", "Jenni", "Heikki", "Satu", "Jyrki", "Ella", "Toivo", "Iida", "Eemeli"
};
const char *const demo_last_names[] = {
	"Virtanen", "Korhonen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
	"Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen",
	"Salminen", "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen",
	"Salo", "Laitinen", "Tuominen", "Rantanen", "Karjalainen", "Jokinen",
	"Mattila", "Savolainen", "Lahtinen", "Ahonen", "Öhman", "Åberg"
};
const char *const demo_streets[] = {
	"Mannerheimintie", "Hämeenkatu", "Aleksanterinkatu", "Kauppakatu", "Koulukatu",
	"Rautatienkatu", "Puistokatu", "Kirkkokatu", "Rantatie", "Koivukuja", "Mäntytie",
	"Kuusitie", "Pihlajatie", "Vaahteratie", "Asemakatu", "Satamakatu", "Torikatu",
	"Myllytie", "Peltotie", "Metsätie"
};
const demo_city demo_cities[] = {
	{ "Helsinki", "00" }, { "Espoo", "02" }, { "Vantaa", "01" }, { "Tampere", "33" },
	{ "Turku", "20" }, { "Oulu", "90" }, { "Jyväskylä", "40" }, { "Kuopio", "70" },
	{ "Lahti", "15" }, { "Pori", "28" }, { "Joensuu", "80" }, { "Lappeenranta", "53" },
	{ "Vaasa", "65" }, { "Seinäjoki", "60" }, { "Rovaniemi", "96" }
};
const char *const demo_products[] = {
	"Vauvan body, luomupuuvilla", "Collegehousut", "Pipo, merinovilla", "Haalari",
	"Sadetakki", "Välikausihaalari", "Sukkahousut", "Pitkähihainen paita",
	"Kesämekko", "Lapaset", "Kuravaatesetti", "Yöpuku"
};
const char *const demo_colours[] = {
	"sininen", "punainen", "harmaa", "keltainen", "vihreä", "musta"
};
const char *const demo_consent_sources[] = {
	"checkout", "checkout", "newsletter form", "address service", "customer service"
};
const char *const demo_segments[] = {
	"vauvat", "taaperot", "koululaiset", "ulkoilu", "alennukset", "luomu", "kanta-asiakas"
};
const char *const demo_complaints[] = {
	"Sauma ratkesi ensimmäisessä pesussa.", "Väri haalistui nopeasti.",
	"Vetoketju rikkoutui kuukauden käytössä.", "Tuote ei vastannut kuvausta.",
	"Paketti saapui vaurioituneena.", "Veloitettiin kahdesti samasta tilauksesta."
};
const char *const demo_return_reasons[] = {
	"väärä koko", "ei miellyttänyt", "viallinen tuote", "väärä tuote toimitettu",
	"tilattu useampi koko"
};
const char *const demo_comments[] = {
	"Nopea toimitus, kiitos!", "Koko oli pieni.", "Hyvä laatu ja kaunis väri.",
	"Asiakaspalvelu auttoi ystävällisesti.", "Toimitus kesti liian kauan.",
	"Paita nyppyyntyi heti.", "Suosittelen ystävillekin."
};
const char *const demo_urls[] = {
	"https://www.minime.fi/", "https://www.minime.fi/vauvat", "https://www.minime.fi/taaperot",
	"https://www.minime.fi/ulkoilu", "https://www.minime.fi/ale",
	"https://www.minime.fi/ostoskori", "https://www.minime.fi/kassa",
	"https://www.minime.fi/omat-tiedot", "https://www.minime.fi/haku?q=haalari"
};
const char *const demo_user_agents[] = {
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S911B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_2) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15",
	"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
const size_t demo_nfirst_names = COUNT(demo_first_names);
const size_t demo_nlast_names = COUNT(demo_last_names);
const size_t demo_nstreets = COUNT(demo_streets);
const size_t demo_ncities = COUNT(demo_cities);
const size_t demo_nproducts = COUNT(demo_products);
const size_t demo_ncolours = COUNT(demo_colours);
const size_t demo_nconsent_sources = COUNT(demo_consent_sources);
const size_t demo_nsegments = COUNT(demo_segments);
const size_t demo_ncomplaints = COUNT(demo_complaints);
const size_t demo_nreturn_reasons = COUNT(demo_return_reasons);
const size_t demo_ncomments = COUNT(demo_comments);
const size_t demo_nurls = COUNT(demo_urls);
const size_t demo_nuser_agents = COUNT(demo_user_agents);

void demo_ascii_lower(char *dst, size_t size, const char *src)
{
	size_t o = 0;

	for (const unsigned char *s = (const unsigned char *)src; *s && o + 1 < size; s++) {
		unsigned char c = *s;

		if (c == 0xC3 && s[1]) {
			/* UTF-8 ä Ä å Å -> a, ö Ö -> o */
			unsigned char n = *++s;

			if (n == 0xA4 || n == 0x84 || n == 0xA5 || n == 0x85)
				dst[o++] = 'a';
			else if (n == 0xB6 || n == 0x96)
				dst[o++] = 'o';
		} else if (c < 0x80) {
			dst[o++] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
		}
	}
	if (size)
		dst[o] = '\0';
}

void demo_chat_text(char *buf, size_t size, int kind, const char *name,
		    const char *first, const char *email, const char *phone,
		    int64_t order_id)
{
	long long oid = (long long)order_id;

	if (!name || kind == 3) {
		snprintf(buf, size, "Asiakas: Hei, onko haalareita vielä koossa 92?\n"
			 "Asiakaspalvelu: Hei! Koko 92 on varastossa sinisenä ja harmaana.\n"
			 "Asiakas: Kiitos, tilaan huomenna.");
	} else if (kind == 0 && order_id) {
		snprintf(buf, size, "Asiakas: Hei, olen %s. Tilaukseni %lld ei ole vielä tullut.\n"
			 "Asiakaspalvelu: Hei %s! Tarkistan seurantatiedot, hetki vain.\n"
			 "Asiakaspalvelu: Paketti odottaa noutopisteessä.\nAsiakas: Kiitos!",
			 name, oid, first);
	} else if (kind == 1 || !phone) {
		snprintf(buf, size, "Asiakas: Voinko vaihtaa tuotteen kokoa? Sähköpostini on %s.\n"
			 "Asiakaspalvelu: Hei %s, voit. Vaihto on maksuton 14 päivän sisällä.\n"
			 "Asiakas: Selvä, kiitos.", email, first);
	} else {
		snprintf(buf, size, "Asiakas: Hei, tässä %s. Laskussani on virhe, soittakaa %s.\n"
			 "Asiakaspalvelu: Hei %s! Korjaamme laskun ja lähetämme uuden.\n"
			 "Asiakas: Kiitos.", name, phone, first);
	}
}
