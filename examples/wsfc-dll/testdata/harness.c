// harness plays the Windows Resource Monitor against a resource DLL built
// from examples/wsfc-dll: it loads the DLL, calls Startup, drives the version
// 1 function table of both types through every entry point, checks each
// return value, and prints one line per step. It exits 1 at the first
// mismatch and prints PASS at the end. wine_test.go builds it with mingw-w64
// and runs it under Wine: harness.exe path\to\resdll.dll
//
// The Resource API's types are declared here from resapi.h's layout (Debian
// 12's mingw-w64 clusapi.h does not compile), with static size checks.

#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

typedef PVOID RESID;
typedef HANDLE RESOURCE_HANDLE;

typedef struct {             // RESOURCE_STATUS
	int ResourceState;       // CLUSTER_RESOURCE_STATE
	DWORD CheckPoint;
	DWORD WaitHint;
	HANDLE EventHandle;
} RESOURCE_STATUS;

typedef enum {               // RESOURCE_EXIT_STATE, what SetResourceStatus returns
	ResourceExitStateContinue = 0,
	ResourceExitStateTerminate = 1,
} RESOURCE_EXIT_STATE;

typedef DWORD(WINAPI *SET_RESOURCE_STATUS)(RESOURCE_HANDLE, RESOURCE_STATUS *); // returns a RESOURCE_EXIT_STATE
typedef VOID(WINAPI *LOG_EVENT)(RESOURCE_HANDLE, int, LPCWSTR, ...);

typedef struct {             // CLRES_V1_FUNCTIONS
	RESID(WINAPI *Open)(LPCWSTR, HKEY, RESOURCE_HANDLE);
	VOID(WINAPI *Close)(RESID);
	DWORD(WINAPI *Online)(RESID, LPHANDLE);
	DWORD(WINAPI *Offline)(RESID);
	VOID(WINAPI *Terminate)(RESID);
	BOOL(WINAPI *LooksAlive)(RESID);
	BOOL(WINAPI *IsAlive)(RESID);
	DWORD(WINAPI *Arbitrate)(RESID, PVOID);
	DWORD(WINAPI *Release)(RESID);
	DWORD(WINAPI *ResourceControl)(RESID, DWORD, PVOID, DWORD, PVOID, DWORD, LPDWORD);
	DWORD(WINAPI *ResourceTypeControl)(LPCWSTR, DWORD, PVOID, DWORD, PVOID, DWORD, LPDWORD);
} V1_FUNCTIONS;

typedef struct {             // CLRES_FUNCTION_TABLE, version 1
	DWORD TableSize;
	DWORD Version;
	V1_FUNCTIONS V1;
} FUNCTION_TABLE;

typedef DWORD(WINAPI *STARTUP)(LPCWSTR, DWORD, DWORD, SET_RESOURCE_STATUS, LOG_EVENT, FUNCTION_TABLE **);

_Static_assert(sizeof(RESOURCE_STATUS) == 24 && offsetof(RESOURCE_STATUS, EventHandle) == 16, "RESOURCE_STATUS");
_Static_assert(sizeof(V1_FUNCTIONS) == 88, "CLRES_V1_FUNCTIONS");
_Static_assert(offsetof(FUNCTION_TABLE, V1) == 8, "CLRES_FUNCTION_TABLE");

// Codes (winerror.h, clusapi.h).
enum {
	E_SUCCESS = 0, E_INVALID_FUNCTION = 1, E_INVALID_DATA = 13, E_INVALID_PARAMETER = 87, E_MOD_NOT_FOUND = 126,
	E_MORE_DATA = 234, E_IO_PENDING = 997, E_REVISION_MISMATCH = 1306, E_PROPERTIES_STORED = 5024,
	E_RESOURCE_FAILED = 5038, E_TYPE_NOT_FOUND = 5078,
};
enum { S_ONLINE = 2, S_OFFLINE = 3, S_FAILED = 4, S_ONLINE_PENDING = 129, S_OFFLINE_PENDING = 130 };
#define CTL_UNKNOWN 0x01000000u
#define CTL_GET_COMMON 0x01000059u
#define CTL_SET_COMMON 0x0140005Eu
#define CTL_ENUM_PRIVATE 0x01000079u
#define CTL_GET_RO_PRIVATE 0x0100007Du
#define CTL_GET_PRIVATE 0x01000081u
#define CTL_SET_PRIVATE 0x01400086u
#define CTL_VALIDATE_PRIVATE 0x01000089u
#define CTL_GET_PRIVATE_FMTS 0x0100008Du
#define CTL_NOBODY 0x01000FFCu           // function 0x3FF: no such code
#define CTL_TYPE_UNKNOWN 0x02000000u
#define CTL_TYPE_GET_RESOURCE_FMTS 0x02000091u
#define CTL_USER_STEP 0x01800004u        // CLUSCTL_USER_CODE(1, CLUS_OBJECT_RESOURCE)
#define CTL_USER_FAIL 0x01800008u
#define CTL_USER_PANIC 0x0180000Cu
#define SYN_NAME 0x00040003u
#define SYN_DWORD 0x00010002u
#define SYN_SZ 0x00010003u
#define SYN_MULTI_SZ 0x00010005u
#define SYN_WORD 0x0001000Bu

static int step;

#define CHECK(cond, ...)                                                   \
	do {                                                                   \
		++step;                                                            \
		printf("%s %2d: ", (cond) ? "ok  " : "FAIL", step);                \
		printf(__VA_ARGS__);                                               \
		printf("\n");                                                      \
		fflush(stdout);                                                    \
		if (!(cond)) ExitProcess(1);                                       \
	} while (0)

// ---- the Resource Monitor's callbacks ----

typedef struct {
	RESOURCE_HANDLE h;
	RESOURCE_STATUS st;
} report;

static CRITICAL_SECTION mu;
static CONDITION_VARIABLE cv;
static report reports[1024];
static int nreports, nread;
static int errorLogs[8]; // LOG_ERROR and LOG_SEVERE lines, by resource handle (1..7)
static int stackLogs[8]; // those of them holding a Go stack ("goroutine N [")

// setResourceStatus records the report and answers that the resource has
// not been terminated: the operation goes on.
static DWORD WINAPI setResourceStatus(RESOURCE_HANDLE h, RESOURCE_STATUS *st) {
	EnterCriticalSection(&mu);
	if (nreports < (int)(sizeof reports / sizeof reports[0])) {
		reports[nreports].h = h;
		reports[nreports].st = *st;
		nreports++;
	}
	WakeAllConditionVariable(&cv);
	LeaveCriticalSection(&mu);
	return ResourceExitStateContinue;
}

static VOID logEvent(RESOURCE_HANDLE h, int level, LPCWSTR format, ...) {
	static const WCHAR expected[] = L"%1!ws!\n";
	char *msg = NULL;
	if (wcscmp(format, expected) == 0) {
		va_list ap;
		va_start(ap, format);
		LPCWSTR s = va_arg(ap, LPCWSTR);
		va_end(ap);
		int need = WideCharToMultiByte(CP_UTF8, 0, s, -1, NULL, 0, NULL, NULL);
		if (need > 0 && (msg = malloc((size_t)need)) != NULL) {
			WideCharToMultiByte(CP_UTF8, 0, s, -1, msg, need, NULL, NULL);
			size_t n = strlen(msg);
			if (n > 0 && msg[n - 1] == '\n') msg[n - 1] = 0;
		}
	}
	const char *text = msg ? msg : "(unexpected format string)";
	EnterCriticalSection(&mu);
	if ((UINT_PTR)h < 8 && level >= 2) {
		errorLogs[(UINT_PTR)h]++;
		if (strstr(text, "goroutine ") != NULL) stackLogs[(UINT_PTR)h]++;
	}
	printf("      log[%u] level %d: %.300s%s\n", (unsigned)(UINT_PTR)h, level, text, strlen(text) > 300 ? " [...]" : "");
	fflush(stdout);
	LeaveCriticalSection(&mu);
	free(msg);
}

// nextReport waits up to ms for the next status report and returns 1 with
// it, or 0.
static int nextReport(DWORD ms, report *out) {
	int got = 0;
	ULONGLONG end = GetTickCount64() + ms;
	EnterCriticalSection(&mu);
	while (nread == nreports) {
		ULONGLONG now = GetTickCount64();
		if (now >= end) break;
		SleepConditionVariableCS(&cv, &mu, (DWORD)(end - now));
	}
	if (nread < nreports) {
		*out = reports[nread++];
		got = 1;
	}
	LeaveCriticalSection(&mu);
	return got;
}

static const char *stateName(int s) {
	switch (s) {
	case S_ONLINE: return "Online";
	case S_OFFLINE: return "Offline";
	case S_FAILED: return "Failed";
	case S_ONLINE_PENDING: return "OnlinePending";
	case S_OFFLINE_PENDING: return "OfflinePending";
	}
	return "?";
}

// expectReport checks that the next report is for h with the state, and
// returns its checkpoint.
static DWORD expectReport(RESOURCE_HANDLE h, int state, HANDLE event) {
	report r;
	int got = nextReport(10000, &r);
	CHECK(got && r.h == h && r.st.ResourceState == state && r.st.EventHandle == event,
	      "SetResourceStatus(handle %u, %s, checkpoint %lu, event %p) [want handle %u, %s, event %p]",
	      got ? (unsigned)(UINT_PTR)r.h : 0, got ? stateName(r.st.ResourceState) : "none",
	      got ? (unsigned long)r.st.CheckPoint : 0, got ? r.st.EventHandle : NULL,
	      (unsigned)(UINT_PTR)h, stateName(state), event);
	return r.st.CheckPoint;
}

static void expectNoReport(DWORD ms, const char *why) {
	report r;
	int got = nextReport(ms, &r);
	CHECK(!got, "no SetResourceStatus within %lu ms: %s%s", (unsigned long)ms, why,
	      got ? " (but one came)" : "");
}

// ---- property lists ----

typedef struct {
	BYTE b[4096];
	DWORD n;
	DWORD count;
} plist;

static void plDword(plist *p, DWORD v) {
	memcpy(p->b + p->n, &v, 4);
	p->n += 4;
}

static void plEntry(plist *p, DWORD syntax, const void *data, DWORD len) {
	plDword(p, syntax);
	plDword(p, len);
	memcpy(p->b + p->n, data, len);
	p->n += len;
	while (p->n % 4) p->b[p->n++] = 0;
}

static void plBegin(plist *p) {
	p->n = 4;
	p->count = 0;
}

static void plName(plist *p, LPCWSTR name) {
	plEntry(p, SYN_NAME, name, (DWORD)(wcslen(name) + 1) * 2);
	p->count++;
	memcpy(p->b, &p->count, 4);
}

static void plEnd(plist *p) { plDword(p, 0); }

static void plPropDword(plist *p, LPCWSTR name, DWORD v) {
	plName(p, name);
	plEntry(p, SYN_DWORD, &v, 4);
	plEnd(p);
}

static void plPropSz(plist *p, LPCWSTR name, LPCWSTR v) {
	plName(p, name);
	plEntry(p, SYN_SZ, v, (DWORD)(wcslen(v) + 1) * 2);
	plEnd(p);
}

// findProp finds name in a property list and returns its first value's
// syntax and data, or 0.
static int findProp(const BYTE *b, DWORD n, LPCWSTR name, DWORD *syntax, const BYTE **data, DWORD *len) {
	DWORD off = 4, count, i;
	if (n < 4) return 0;
	memcpy(&count, b, 4);
	for (i = 0; i < count; i++) {
		DWORD s, l, found;
		if (off + 8 > n) return 0;
		memcpy(&s, b + off, 4);
		memcpy(&l, b + off + 4, 4);
		if (s != SYN_NAME || off + 8 + l > n) return 0;
		found = wcscmp((LPCWSTR)(b + off + 8), name) == 0;
		off += 8 + ((l + 3) & ~3u);
		for (int first = 1;; first = 0) {
			if (off + 4 > n) return 0;
			memcpy(&s, b + off, 4);
			if (s == 0) {
				off += 4;
				break;
			}
			memcpy(&l, b + off + 4, 4);
			if (found && first) {
				*syntax = s;
				*data = b + off + 8;
				*len = l;
				return 1;
			}
			off += 8 + ((l + 3) & ~3u);
		}
	}
	return 0;
}

static int propDword(const BYTE *b, DWORD n, LPCWSTR name, DWORD *v) {
	DWORD s, l;
	const BYTE *d;
	if (!findProp(b, n, name, &s, &d, &l) || s != SYN_DWORD || l != 4) return 0;
	memcpy(v, d, 4);
	return 1;
}

static int propSz(const BYTE *b, DWORD n, LPCWSTR name, LPCWSTR want) {
	DWORD s, l;
	const BYTE *d;
	return findProp(b, n, name, &s, &d, &l) && s == SYN_SZ && l == (wcslen(want) + 1) * 2 &&
	       memcmp(d, want, l) == 0;
}

// ---- the scenario ----

static FUNCTION_TABLE *scr;
static RESID s1;
static volatile LONG aliveFailures, aliveCalls;

static DWORD WINAPI pollAlive(LPVOID arg) {
	(void)arg;
	for (int i = 0; i < 2000; i++) {
		BOOL a = (i % 2) ? scr->V1.IsAlive(s1) : scr->V1.LooksAlive(s1);
		InterlockedIncrement(&aliveCalls);
		if (!a) InterlockedIncrement(&aliveFailures);
	}
	return 0;
}

static DWORD control(RESID r, DWORD code, plist *in, BYTE *out, DWORD outSize, DWORD *returned) {
	*returned = 0xFFFFFFFF;
	return scr->V1.ResourceControl(r, code, in ? in->b : NULL, in ? in->n : 0, out, outSize, returned);
}

// getPrivate reads code's property list into out, first asking its size.
static DWORD getList(RESID r, DWORD code, BYTE *out, DWORD size) {
	DWORD need, got, rc;
	rc = control(r, code, NULL, NULL, 0, &need);
	CHECK(rc == E_MORE_DATA && need > 4 && need <= size, "ResourceControl(%#lx) with no buffer = %lu, needs %lu bytes",
	      (unsigned long)code, (unsigned long)rc, (unsigned long)need);
	rc = control(r, code, NULL, out, size, &got);
	CHECK(rc == E_SUCCESS && got == need, "ResourceControl(%#lx) = %lu, %lu bytes", (unsigned long)code,
	      (unsigned long)rc, (unsigned long)got);
	return got;
}

// onlineNow brings r online, accepting a direct answer or a pending one
// followed by its report.
static void onlineNow(FUNCTION_TABLE *t, RESID r, RESOURCE_HANDLE h, HANDLE *ev) {
	*ev = NULL;
	DWORD rc = t->V1.Online(r, ev);
	CHECK((rc == E_SUCCESS || rc == E_IO_PENDING) && *ev != NULL, "Online = %lu (0 or 997), event handle %p",
	      (unsigned long)rc, *ev);
	if (rc == E_IO_PENDING) expectReport(h, S_ONLINE, *ev);
}

static void offlineNow(FUNCTION_TABLE *t, RESID r, RESOURCE_HANDLE h) {
	DWORD rc = t->V1.Offline(r);
	CHECK(rc == E_SUCCESS || rc == E_IO_PENDING, "Offline = %lu (0 or 997)", (unsigned long)rc);
	if (rc == E_IO_PENDING) expectReport(h, S_OFFLINE, NULL);
}

int main(int argc, char **argv) {
	BYTE buf[4096];
	DWORD rc, n, v;
	plist pl;
	HANDLE ev;
	RESOURCE_HANDLE hWeb = (RESOURCE_HANDLE)1, hS1 = (RESOURCE_HANDLE)2, hPanic = (RESOURCE_HANDLE)3;

	if (argc != 2) {
		printf("usage: harness path\\to\\resdll.dll\n");
		return 2;
	}
	InitializeCriticalSection(&mu);
	InitializeConditionVariable(&cv);

	HMODULE dll = LoadLibraryA(argv[1]);
	CHECK(dll != NULL, "LoadLibrary(%s) (error %lu)", argv[1], dll ? 0ul : (unsigned long)GetLastError());
	STARTUP startup = (STARTUP)(void *)GetProcAddress(dll, "Startup");
	CHECK(startup != NULL, "GetProcAddress(Startup)");

	FUNCTION_TABLE *web = NULL;
	rc = startup(L"resdll Scripted", 0x200, 0x300, setResourceStatus, logEvent, &scr);
	CHECK(rc == E_REVISION_MISMATCH, "Startup with versions 0x200-0x300 = %lu (ERROR_REVISION_MISMATCH)", (unsigned long)rc);
	rc = startup(L"resdll Scripted", 0x000, 0x0FF, setResourceStatus, logEvent, &scr);
	CHECK(rc == E_REVISION_MISMATCH, "Startup with versions 0-0xFF = %lu (ERROR_REVISION_MISMATCH)", (unsigned long)rc);
	rc = startup(L"No Such Type", 0x100, 0x100, setResourceStatus, logEvent, &scr);
	CHECK(rc == E_MOD_NOT_FOUND, "Startup of an unknown type = %lu (ERROR_MOD_NOT_FOUND)", (unsigned long)rc);
	rc = startup(L"resdll Web", 0x100, 0x100, setResourceStatus, logEvent, &web);
	CHECK(rc == E_SUCCESS && web != NULL, "Startup(resdll Web) = %lu, table %p", (unsigned long)rc, (void *)web);
	CHECK(web->TableSize == sizeof(V1_FUNCTIONS) && web->Version == 0x100, "table size %lu, version %#lx",
	      (unsigned long)web->TableSize, (unsigned long)web->Version);
	CHECK(web->V1.Open && web->V1.Close && web->V1.Online && web->V1.Offline && web->V1.Terminate &&
	          web->V1.LooksAlive && web->V1.IsAlive && web->V1.ResourceControl && web->V1.ResourceTypeControl &&
	          !web->V1.Arbitrate && !web->V1.Release,
	      "every V1 entry point set, Arbitrate and Release NULL");
	rc = startup(L"RESDLL SCRIPTED", 0x100, 0x200, setResourceStatus, logEvent, &scr);
	CHECK(rc == E_SUCCESS && scr != NULL && scr != web && scr->V1.Open != web->V1.Open,
	      "Startup(RESDLL SCRIPTED) = %lu: a table of its own, with its own Open", (unsigned long)rc);

	// The quick-start's web type.
	RESID w1 = web->V1.Open(L"web1", NULL, hWeb);
	CHECK(w1 != NULL, "Open(web1) = %p", w1);
	onlineNow(web, w1, hWeb, &ev);
	CHECK(WaitForSingleObject(ev, 0) == WAIT_TIMEOUT, "the failure event is not signalled");
	CHECK(web->V1.IsAlive(w1) && web->V1.LooksAlive(w1), "IsAlive and LooksAlive TRUE");
	offlineNow(web, w1, hWeb);
	CHECK(!web->V1.IsAlive(w1), "IsAlive FALSE once Offline");
	web->V1.Close(w1);
	CHECK(!web->V1.IsAlive(w1), "Close(web1); IsAlive of the closed RESID is FALSE");

	// The scripted type: a factory that panics.
	SetLastError(0);
	RESID bad = scr->V1.Open(L"panic-on-open", NULL, hPanic);
	DWORD le = GetLastError();
	CHECK(bad == NULL && le == E_RESOURCE_FAILED, "Open(panic-on-open) = %p, last error %lu (the panic is an error)",
	      bad, (unsigned long)le);
	CHECK(stackLogs[3] > 0, "the factory's panic reached LogEvent at LOG_ERROR or above, with its stack");

	s1 = scr->V1.Open(L"s1", NULL, hS1);
	CHECK(s1 != NULL, "Open(s1) = %p", s1);

	// Control codes and private properties.
	rc = control(s1, CTL_UNKNOWN, NULL, buf, sizeof buf, &n);
	CHECK(rc == E_SUCCESS && n == 0, "CLUSCTL_RESOURCE_UNKNOWN = %lu", (unsigned long)rc);
	n = getList(s1, CTL_ENUM_PRIVATE, buf, sizeof buf);
	{
		int port = 0, hang = 0, version = 0, count = 0;
		for (LPCWSTR s = (LPCWSTR)buf; *s; s += wcslen(s) + 1, count++) {
			port |= wcscmp(s, L"Port") == 0;
			hang |= wcscmp(s, L"HangOffline") == 0;
			version |= wcscmp(s, L"Version") == 0;
		}
		CHECK(port && hang && version && count == 6, "ENUM_PRIVATE_PROPERTIES: %d names, Port, HangOffline, Version among them", count);
	}
	n = getList(s1, CTL_GET_PRIVATE, buf, sizeof buf);
	CHECK(propDword(buf, n, L"Port", &v) && v == 8080, "GET_PRIVATE_PROPERTIES: Port DWORD 8080");
	CHECK(propSz(buf, n, L"Comment", L""), "GET_PRIVATE_PROPERTIES: Comment SZ \"\"");
	{
		DWORD s, l;
		const BYTE *d;
		CHECK(findProp(buf, n, L"Tags", &s, &d, &l) && s == SYN_MULTI_SZ && l == sizeof L"scripted" + 2 &&
		          memcmp(d, L"scripted\0", sizeof L"scripted" + 2) == 0,
		      "GET_PRIVATE_PROPERTIES: Tags MULTI_SZ {scripted}");
		CHECK(!findProp(buf, n, L"Version", &s, &d, &l), "GET_PRIVATE_PROPERTIES leaves out read-only Version");
	}
	n = getList(s1, CTL_GET_RO_PRIVATE, buf, sizeof buf);
	CHECK(propSz(buf, n, L"Version", L"1.0"), "GET_RO_PRIVATE_PROPERTIES: Version SZ 1.0");
	n = getList(s1, CTL_GET_PRIVATE_FMTS, buf, sizeof buf);
	{
		DWORD s, l;
		const BYTE *d;
		CHECK(findProp(buf, n, L"Port", &s, &d, &l) && s == SYN_WORD && l == 2 && *(const WORD *)d == 2,
		      "GET_PRIVATE_PROPERTY_FMTS: Port's format is DWORD (a WORD 2)");
	}

	plBegin(&pl);
	plPropDword(&pl, L"Port", 9090);
	plPropSz(&pl, L"Comment", L"hello");
	plPropDword(&pl, L"OnlineSteps", 2);
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "SET_PRIVATE_PROPERTIES Port=9090 Comment=hello OnlineSteps=2 = %lu", (unsigned long)rc);
	n = getList(s1, CTL_GET_PRIVATE, buf, sizeof buf);
	CHECK(propDword(buf, n, L"Port", &v) && v == 9090 && propSz(buf, n, L"Comment", L"hello"),
	      "GET_PRIVATE_PROPERTIES: Port 9090, Comment hello");

	plBegin(&pl);
	plPropDword(&pl, L"Port", 0);
	plPropSz(&pl, L"Comment", L"not stored");
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_INVALID_PARAMETER, "SET_PRIVATE_PROPERTIES Port=0 = %lu (ERROR_INVALID_PARAMETER)", (unsigned long)rc);
	plBegin(&pl);
	plPropDword(&pl, L"Port", 70000);
	rc = control(s1, CTL_VALIDATE_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_INVALID_PARAMETER, "VALIDATE_PRIVATE_PROPERTIES Port=70000 = %lu", (unsigned long)rc);
	plBegin(&pl);
	plPropDword(&pl, L"Port", 1234);
	rc = control(s1, CTL_VALIDATE_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "VALIDATE_PRIVATE_PROPERTIES Port=1234 = %lu", (unsigned long)rc);
	plBegin(&pl);
	plPropSz(&pl, L"Version", L"2.0");
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_INVALID_PARAMETER, "SET_PRIVATE_PROPERTIES of read-only Version = %lu", (unsigned long)rc);
	plBegin(&pl);
	plPropDword(&pl, L"Port", 1);
	pl.n -= 6; // cut into the value
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_INVALID_DATA, "SET_PRIVATE_PROPERTIES with a truncated list = %lu (ERROR_INVALID_DATA)", (unsigned long)rc);
	n = getList(s1, CTL_GET_PRIVATE, buf, sizeof buf);
	CHECK(propDword(buf, n, L"Port", &v) && v == 9090 && propSz(buf, n, L"Comment", L"hello"),
	      "nothing of the refused sets was stored: Port 9090, Comment hello");

	rc = control(s1, CTL_GET_COMMON, NULL, buf, sizeof buf, &n);
	CHECK(rc == E_INVALID_FUNCTION, "GET_COMMON_PROPERTIES = %lu (the cluster service's)", (unsigned long)rc);
	rc = control(s1, CTL_SET_COMMON, NULL, buf, sizeof buf, &n);
	CHECK(rc == E_INVALID_FUNCTION, "SET_COMMON_PROPERTIES = %lu", (unsigned long)rc);
	rc = control(s1, CTL_NOBODY, NULL, buf, sizeof buf, &n);
	CHECK(rc == E_INVALID_FUNCTION, "an unknown control code = %lu (ERROR_INVALID_FUNCTION)", (unsigned long)rc);
	rc = control(s1, CTL_USER_PANIC, NULL, buf, sizeof buf, &n);
	CHECK(rc == E_RESOURCE_FAILED, "a control that panics = %lu, and the process lives on", (unsigned long)rc);

	rc = scr->V1.ResourceTypeControl(L"resdll Scripted", CTL_TYPE_UNKNOWN, NULL, 0, buf, sizeof buf, &n);
	CHECK(rc == E_SUCCESS, "ResourceTypeControl CLUSCTL_RESOURCE_TYPE_UNKNOWN = %lu", (unsigned long)rc);
	rc = scr->V1.ResourceTypeControl(L"resdll Scripted", CTL_TYPE_GET_RESOURCE_FMTS, NULL, 0, buf, sizeof buf, &n);
	{
		DWORD s, l;
		const BYTE *d;
		CHECK(rc == E_SUCCESS && findProp(buf, n, L"HangOffline", &s, &d, &l) && s == SYN_WORD && *(const WORD *)d == 2,
		      "ResourceTypeControl GET_PRIVATE_RESOURCE_PROPERTY_FMTS = %lu: HangOffline is a DWORD", (unsigned long)rc);
	}
	rc = scr->V1.ResourceTypeControl(L"resdll Scripted", 0x02000FFCu, NULL, 0, buf, sizeof buf, &n);
	CHECK(rc == E_INVALID_FUNCTION, "ResourceTypeControl of an unknown code = %lu", (unsigned long)rc);
	rc = scr->V1.ResourceTypeControl(L"No Such Type", CTL_TYPE_UNKNOWN, NULL, 0, buf, sizeof buf, &n);
	CHECK(rc == E_TYPE_NOT_FOUND, "ResourceTypeControl of an unknown type = %lu", (unsigned long)rc);

	// Online with two progress reports (R13).
	ev = NULL;
	rc = scr->V1.Online(s1, &ev);
	CHECK(rc == E_IO_PENDING && ev != NULL, "Online(s1) = %lu (ERROR_IO_PENDING), event handle %p", (unsigned long)rc, ev);
	CHECK(WaitForSingleObject(ev, 0) == WAIT_TIMEOUT, "the failure event is not signalled");
	rc = control(s1, CTL_USER_STEP, NULL, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "user control code: step 1 = %lu", (unsigned long)rc);
	DWORD cp1 = expectReport(hS1, S_ONLINE_PENDING, NULL);
	rc = control(s1, CTL_USER_STEP, NULL, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "user control code: step 2 = %lu", (unsigned long)rc);
	DWORD cp2 = expectReport(hS1, S_ONLINE_PENDING, NULL);
	DWORD cp3 = expectReport(hS1, S_ONLINE, ev);
	CHECK(cp1 < cp2 && cp2 < cp3, "checkpoints grow: %lu < %lu < %lu", (unsigned long)cp1, (unsigned long)cp2, (unsigned long)cp3);

	// IsAlive and LooksAlive from several threads at once.
	{
		HANDLE th[8];
		for (int i = 0; i < 8; i++) th[i] = CreateThread(NULL, 0, pollAlive, NULL, 0, NULL);
		DWORD w = WaitForMultipleObjects(8, th, TRUE, 30000);
		for (int i = 0; i < 8; i++) CloseHandle(th[i]);
		CHECK(w < WAIT_OBJECT_0 + 8 && aliveCalls == 16000 && aliveFailures == 0,
		      "8 threads, %ld IsAlive/LooksAlive calls, %ld FALSE", (long)aliveCalls, (long)aliveFailures);
	}

	plBegin(&pl);
	plPropDword(&pl, L"Port", 9191);
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_PROPERTIES_STORED, "SET Port while Online = %lu (ERROR_RESOURCE_PROPERTIES_STORED)", (unsigned long)rc);
	plBegin(&pl);
	plPropSz(&pl, L"Comment", L"live");
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "SET reloadable Comment while Online = %lu", (unsigned long)rc);

	// The resource fails: its event handle is signalled (R23, R30).
	int logsBefore = errorLogs[2];
	rc = control(s1, CTL_USER_FAIL, NULL, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "user control code: fail = %lu", (unsigned long)rc);
	CHECK(WaitForSingleObject(ev, 10000) == WAIT_OBJECT_0, "the failure event is signalled");
	CHECK(!scr->V1.IsAlive(s1) && !scr->V1.LooksAlive(s1), "IsAlive and LooksAlive FALSE");
	CHECK(errorLogs[2] > logsBefore, "the failure reached LogEvent at LOG_ERROR or above");
	expectNoReport(200, "a failure while Online is the event's, not a status report");
	scr->V1.Terminate(s1);
	CHECK(1, "Terminate(s1) returned");

	// Online again; then an Offline that hangs, ended by Terminate.
	plBegin(&pl);
	plPropDword(&pl, L"OnlineSteps", 0);
	plPropDword(&pl, L"HangOffline", 1);
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "SET OnlineSteps=0 HangOffline=1 = %lu", (unsigned long)rc);
	{
		HANDLE ev2;
		onlineNow(scr, s1, hS1, &ev2);
		CHECK(ev2 == ev && WaitForSingleObject(ev, 0) == WAIT_TIMEOUT, "the same event handle, reset by Online");
	}
	rc = scr->V1.Offline(s1);
	CHECK(rc == E_IO_PENDING, "Offline(s1) = %lu (ERROR_IO_PENDING)", (unsigned long)rc);
	expectNoReport(300, "Offline hangs");
	scr->V1.Terminate(s1);
	CHECK(!scr->V1.IsAlive(s1), "Terminate during the hung Offline returned; IsAlive FALSE");
	expectNoReport(300, "the Offline Terminate cut short is not reported");

	plBegin(&pl);
	plPropDword(&pl, L"HangOffline", 0);
	rc = control(s1, CTL_SET_PRIVATE, &pl, NULL, 0, &n);
	CHECK(rc == E_SUCCESS, "SET HangOffline=0 = %lu", (unsigned long)rc);
	{
		HANDLE ev3;
		onlineNow(scr, s1, hS1, &ev3);
		CHECK(ev3 == ev, "the same event handle again");
	}
	n = getList(s1, CTL_GET_PRIVATE, buf, sizeof buf);
	CHECK(propDword(buf, n, L"Port", &v) && v == 9191, "the Port 9191 stored while Online is kept");
	offlineNow(scr, s1, hS1);

	scr->V1.Close(s1);
	CHECK(!scr->V1.IsAlive(s1), "Close(s1); IsAlive of the closed RESID is FALSE");
	rc = control(s1, CTL_UNKNOWN, NULL, NULL, 0, &n);
	CHECK(rc == 6, "ResourceControl of the closed RESID = %lu (ERROR_INVALID_HANDLE)", (unsigned long)rc);
	scr->V1.Close(s1);
	CHECK(1, "a second Close(s1) is harmless");

	// The Go runtime cannot be unloaded: the DLL pins itself.
	CHECK(FreeLibrary(dll), "FreeLibrary");
	rc = startup(L"resdll Web", 0x100, 0x100, setResourceStatus, logEvent, &web);
	CHECK(rc == E_SUCCESS, "Startup after FreeLibrary = %lu: the DLL stays loaded", (unsigned long)rc);

	printf("PASS %d steps\n", step);
	fflush(stdout);
	return 0;
}
