// FlexTOE-TS DPDK port driver: the native half of packages/backend-x86/src/drivers/dpdk.
//
// Shape (DPDK ethdev, seen from JavaScript):
//  - ealInit(args): rte_eal_init once per process; the Node thread that calls it becomes the
//    EAL main lcore, and gets its CPU affinity back afterwards (EAL pins it to one core).
//  - open(devargs): hot-plugs a vdev (rte_dev_probe) or finds an already probed device, so
//    any number of ports can join one EAL after init; close(port) stops it and unplugs it.
//  - setup(port, ...): one RX and one TX queue over a per-port mbuf pool, started, and the
//    JavaScript side's frame slots registered once: two Uint8Arrays of `slotCount` slots of
//    `slotBytes` bytes (RX and TX) and two Uint32Arrays of lengths, all over SharedArrayBuffers.
//  - rxBurst(port, max) / txBurst(port, count): ONE N-API call per burst. RX copies each
//    mbuf's bytes into the next RX slot and its length into rxLens, TX builds mbufs from the TX
//    slots; both return a count, so the JavaScript side allocates nothing per packet.
//  - Wakeup without burning a core: while a port is armed (its consumer found it idle), one
//    helper thread polls the armed ports' RX queues with an exponential backoff (20 us .. 1 ms)
//    and, on the first frames, keeps them (the "stash", handed out by the next rxBurst first),
//    disarms the port and calls the port's JavaScript wakeup through a thread-safe function.
//    The vdevs we target (af_packet, tap, ring) have no RX interrupt to sleep on instead.
//    RX-queue access is serialised by a per-port mutex: the stack's thread and the helper
//    never poll the same queue at once.
//  - Threads as lcores: the thread that initialises EAL is its main lcore; registerThread()
//    makes any other thread that will call the burst functions (a NIC-core worker that was
//    handed a port, and the wakeup helper) an EAL lcore with rte_thread_register, so it has an
//    lcore id and its own mempool cache instead of every mbuf alloc/free going to the shared
//    ring; unregisterThread() gives the id back before the thread ends.
#include <napi.h>

#include <dirent.h>
#include <linux/if_xdp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_mbuf_pool_ops.h>
#include <rte_version.h>

namespace {

constexpr uint16_t kMaxBurst = 64;
constexpr auto kMinBackoff = std::chrono::microseconds(20);
constexpr auto kMaxBackoff = std::chrono::microseconds(1000);

struct Port {
  uint16_t id = 0;
  std::string name;
  rte_device* device = nullptr;
  rte_mempool* pool = nullptr;
  std::atomic<bool> started{false};
  bool configured = false;
  bool stopped = false;

  // Frame slots shared with JavaScript (registered by setup, kept alive by the references).
  uint8_t* rxSlots = nullptr;
  uint32_t* rxLens = nullptr;
  uint8_t* txSlots = nullptr;
  uint32_t* txLens = nullptr;
  uint32_t slotBytes = 0;
  uint32_t slotCount = 0;
  Napi::Reference<Napi::Value> keep[4];

  // RX queue owner lock, and frames the helper thread took off the queue for the next rxBurst.
  std::mutex rxLock;
  rte_mbuf* stash[kMaxBurst];
  uint16_t stashHead = 0;
  uint16_t stashCount = 0;

  std::atomic<int> armed{0};
  Napi::ThreadSafeFunction wake;
  bool hasWake = false;

  // net_af_xdp in copy mode: one send() on the XDP socket makes the kernel transmit a bounded
  // batch of the TX ring, and the PMD kicks once per tx_burst; the rest waits for the next
  // burst (an idle connection's last frames, a retransmission, for ever). See TxBurst.
  bool kickUntilSent = false;
  uint64_t txKicks = 0;

  // Drops the JavaScript side cannot see in ethdev stats.
  uint64_t rxOversize = 0;
  uint64_t txNoMbuf = 0;

  // net_af_xdp: the XDP sockets the PMD opened for this port (found by setup: the ones that
  // appeared while its queues were set up). The kernel counts drops on them (XDP_STATISTICS)
  // that DPDK 22.11's ethdev stats leave out, e.g. TX descriptors it found invalid.
  std::vector<int> xskFds;
};

// Process-wide state, never destroyed: the helper thread may still run while the process
// exits, and destroying a condition variable or a joinable std::thread under it would hang or
// abort the exit.
struct Globals {
  std::mutex ealLock;
  bool ealReady = false;
  std::vector<std::string> ealArgs;
  // Port table: written by the JavaScript thread (open/close), read by the helper under the lock.
  std::mutex tableLock;
  Port* ports[RTE_MAX_ETHPORTS] = {};
  // The wakeup helper thread.
  std::mutex pollerLock;
  std::condition_variable pollerCv;
  bool pollerRunning = false;
  std::atomic<int> armedPorts{0};
};
Globals& G() {
  static Globals* g = new Globals();
  return *g;
}

std::string ErrText(int err) {
  if (err < 0) err = -err;
  return std::string(rte_strerror(err)) + " (errno " + std::to_string(err) + ")";
}

[[noreturn]] void Throw(Napi::Env env, const std::string& msg) {
  throw Napi::Error::New(env, "dpdk: " + msg);
}

Port* PortArg(const Napi::CallbackInfo& info, size_t i = 0) {
  if (info.Length() <= i || !info[i].IsNumber())
    throw Napi::TypeError::New(info.Env(), "dpdk: port id must be a number");
  uint32_t id = info[i].As<Napi::Number>().Uint32Value();
  Port* p = id < RTE_MAX_ETHPORTS ? G().ports[id] : nullptr;
  if (p == nullptr) throw Napi::Error::New(info.Env(), "dpdk: port " + std::to_string(id) + " is not open");
  return p;
}

void Disarm(Port* p) {
  if (p->armed.exchange(0) == 1) G().armedPorts.fetch_sub(1);
}

// Set on a thread that registerThread() registered (and must unregister before it ends).
thread_local bool registeredHere = false;

void PollerMain() {
  // The helper calls rte_eth_rx_burst, whose PMD allocates mbufs: as a registered lcore it uses a
  // per-lcore mempool cache. Best effort: without a free lcore id it polls as a non-EAL thread.
  if (rte_thread_register() == 0) registeredHere = true;
  auto delay = kMinBackoff;
  for (;;) {
    {
      std::unique_lock<std::mutex> lk(G().pollerLock);
      G().pollerCv.wait(lk, [] { return !G().pollerRunning || G().armedPorts.load() > 0; });
      if (!G().pollerRunning) return;
    }
    bool got = false;
    {
      std::lock_guard<std::mutex> table(G().tableLock);
      for (Port* p : G().ports) {
        if (p == nullptr || p->armed.load() == 0 || !p->started.load()) continue;
        std::unique_lock<std::mutex> rx(p->rxLock, std::try_to_lock);
        if (!rx.owns_lock()) continue;  // the stack's thread is receiving: it is not idle
        if (p->stashCount == 0) {
          p->stashHead = 0;
          p->stashCount = rte_eth_rx_burst(p->id, 0, p->stash, kMaxBurst);
        }
        if (p->stashCount > 0) {
          got = true;
          if (p->armed.exchange(0) == 1) {
            G().armedPorts.fetch_sub(1);
            if (p->hasWake) p->wake.NonBlockingCall();
          }
        }
      }
    }
    delay = got ? kMinBackoff : std::min(delay * 2, kMaxBackoff);
    std::this_thread::sleep_for(delay);
  }
}

void StartPoller() {
  std::lock_guard<std::mutex> lk(G().pollerLock);
  if (G().pollerRunning) return;
  G().pollerRunning = true;
  std::thread poller(PollerMain);
  pthread_setname_np(poller.native_handle(), "flextoe-dpdk-rx");
  poller.detach();
}

bool HasCoreOption(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "-l" || a == "-c" || a == "--lcores" || a.rfind("--lcores=", 0) == 0 || a.rfind("-l", 0) == 0 ||
        a.rfind("-c", 0) == 0)
      return true;
  }
  return false;
}

// ealInit(args: string[]): { args: string[], mainLcore: number, version: string }
Napi::Value EalInit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "dpdk: ealInit(args: string[])");
  std::lock_guard<std::mutex> lk(G().ealLock);
  if (G().ealReady) Throw(env, "EAL is already initialised in this process");
  Napi::Array arr = info[0].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < arr.Length(); i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "dpdk: EAL arguments must be strings");
    args.push_back(v.As<Napi::String>().Utf8Value());
  }

  const std::vector<std::string> requested = args;
  // EAL pins the calling thread to its main lcore's CPU; this is Node's main thread, which
  // must keep every CPU it had. Save the mask, pick its first CPU as the main lcore unless the
  // caller chose cores, and restore the mask after init.
  cpu_set_t saved;
  CPU_ZERO(&saved);
  pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved);
  if (!HasCoreOption(args)) {
    int first = 0;
    for (int c = 0; c < CPU_SETSIZE; c++)
      if (CPU_ISSET(c, &saved)) {
        first = c;
        break;
      }
    args.push_back("--lcores=0@" + std::to_string(first));
  }

  std::vector<std::string> argvStore;
  argvStore.push_back("flextoe");
  argvStore.insert(argvStore.end(), args.begin(), args.end());
  // rte_eal_init permutes argv and may keep pointers into it: give it copies that live forever.
  std::vector<char*> argv;
  for (auto& s : argvStore) argv.push_back(strdup(s.c_str()));
  argv.push_back(nullptr);

  // DPDK logs to stdout by default; keep stdout for the application.
  rte_openlog_stream(stderr);
  int ret = rte_eal_init(static_cast<int>(argvStore.size()), argv.data());
  int err = rte_errno;
  pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
  if (ret < 0) {
    std::string joined;
    for (auto& a : args) joined += (joined.empty() ? "" : " ") + a;
    std::string hint;
    if (err == EALREADY) hint = " (EAL init was already attempted in this process and cannot be retried)";
    Throw(env, "rte_eal_init failed: " + ErrText(err) + hint + "; EAL arguments: " + joined);
  }
  G().ealReady = true;
  G().ealArgs = requested;
  StartPoller();

  Napi::Object out = Napi::Object::New(env);
  Napi::Array used = Napi::Array::New(env, args.size());
  for (size_t i = 0; i < args.size(); i++) used.Set(i, args[i]);
  out.Set("args", used);
  out.Set("mainLcore", rte_get_main_lcore());
  out.Set("version", rte_version());
  const char* dir = rte_eal_get_runtime_dir();
  out.Set("runtimeDir", dir ? dir : "");
  return out;
}

Napi::Value EalState(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  std::lock_guard<std::mutex> lk(G().ealLock);
  out.Set("ready", G().ealReady);
  out.Set("version", rte_version());
  const char* dir = G().ealReady ? rte_eal_get_runtime_dir() : nullptr;
  out.Set("runtimeDir", dir ? dir : "");
  Napi::Array used = Napi::Array::New(env, G().ealArgs.size());
  for (size_t i = 0; i < G().ealArgs.size(); i++) used.Set(i, G().ealArgs[i]);
  out.Set("args", used);
  return out;
}

uint64_t MacToNumber(const rte_ether_addr& a) {
  uint64_t v = 0;
  for (int i = 0; i < 6; i++) v = (v << 8) | a.addr_bytes[i];
  return v;
}

// open(devargs): { port, name, driver, mac, linkGbps }
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!G().ealReady) Throw(env, "EAL is not initialised");
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "dpdk: open(devargs: string)");
  std::string devargs = info[0].As<Napi::String>().Utf8Value();
  std::string name = devargs.substr(0, devargs.find(','));
  if (name.empty()) Throw(env, "device \"" + devargs + "\" has no name before its first ','");

  uint16_t id = 0;
  bool found = rte_eth_dev_get_port_by_name(name.c_str(), &id) == 0;
  if (found) {
    std::lock_guard<std::mutex> table(G().tableLock);
    if (G().ports[id] != nullptr) Throw(env, "device " + name + " is already open in this process (port " + std::to_string(id) + ")");
  } else {
    int ret = rte_dev_probe(devargs.c_str());
    if (ret < 0) {
      // DPDK's own reason is in its log (stderr); its return code is often unhelpful (EFAULT).
      Throw(env, "cannot probe \"" + devargs + "\": " + ErrText(ret) +
                     ": no DPDK driver accepted it (see DPDK's log above). A vdev is its driver's name (net_tap, "
                     "net_af_packet, net_af_xdp, net_ring, net_null) with a unique suffix, then ,key=value options "
                     "that driver knows, naming interfaces that exist; a PCI device is its address (0000:01:00.0) "
                     "and needs EAL arguments without --no-pci");
    }
    if (rte_eth_dev_get_port_by_name(name.c_str(), &id) != 0)
      Throw(env, "probed \"" + devargs + "\" but it created no ethdev port named " + name);
  }

  rte_eth_dev_info dev{};
  int ret = rte_eth_dev_info_get(id, &dev);
  if (ret != 0) Throw(env, "rte_eth_dev_info_get(" + name + "): " + ErrText(ret));
  rte_ether_addr mac{};
  rte_eth_macaddr_get(id, &mac);
  rte_eth_link link{};
  rte_eth_link_get_nowait(id, &link);

  Port* p = new Port();
  p->id = id;
  p->name = name;
  p->device = dev.device;
  p->kickUntilSent = dev.driver_name != nullptr && std::string(dev.driver_name) == "net_af_xdp";
  {
    std::lock_guard<std::mutex> table(G().tableLock);
    G().ports[id] = p;
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("port", id);
  out.Set("name", name);
  out.Set("driver", dev.driver_name ? dev.driver_name : "unknown");
  out.Set("mac", static_cast<double>(MacToNumber(mac)));
  out.Set("linkGbps", link.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0.0 : link.link_speed / 1000.0);
  out.Set("maxRxPktLen", dev.max_rx_pktlen);
  return out;
}

// The bytes behind a typed array, SharedArrayBuffer-backed ones included (node-addon-api's
// ArrayBuffer() path refuses a SharedArrayBuffer on Node 20; napi_get_typedarray_info does not).
template <typename T>
T* TypedData(Napi::Env env, Napi::Value v, const char* what, size_t minBytes) {
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, std::string("dpdk: ") + what + " must be a typed array");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  napi_status st = napi_get_typedarray_info(env, v, &type, &length, &data, nullptr, nullptr);
  if (st != napi_ok || data == nullptr)
    throw Napi::TypeError::New(env, std::string("dpdk: cannot get the memory of ") + what);
  size_t bytes = length * v.As<Napi::TypedArray>().ElementSize();
  if (bytes < minBytes) throw Napi::RangeError::New(env, std::string("dpdk: ") + what + " is too small for the slots");
  return static_cast<T*>(data);
}

// setup(port, { rxDesc, txDesc, mbufs, mtu }, rxSlots, rxLens, txSlots, txLens, slotBytes, slotCount)
#ifndef SOL_XDP
#define SOL_XDP 283
#endif

// The XDP sockets open in this process: the descriptors that answer XDP_STATISTICS.
std::vector<int> XskFds() {
  std::vector<int> fds;
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return fds;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long fd = strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(d)) continue;
    xdp_statistics st{};
    socklen_t len = sizeof st;
    if (getsockopt(static_cast<int>(fd), SOL_XDP, XDP_STATISTICS, &st, &len) == 0) fds.push_back(static_cast<int>(fd));
  }
  closedir(d);
  return fds;
}

// rte_pktmbuf_pool_create with mempool flags (it takes none): the same steps as DPDK's
// rte_pktmbuf_pool_create_by_ops. Returns null with rte_errno set.
rte_mempool* PktmbufPool(const char* name, uint32_t n, int socket, unsigned flags) {
  rte_pktmbuf_pool_private priv{};
  priv.mbuf_data_room_size = RTE_MBUF_DEFAULT_BUF_SIZE;
  priv.mbuf_priv_size = 0;
  rte_mempool* mp = rte_mempool_create_empty(name, n, sizeof(rte_mbuf) + RTE_MBUF_DEFAULT_BUF_SIZE, 256,
                                             sizeof(rte_pktmbuf_pool_private), socket, flags);
  if (mp == nullptr) return nullptr;
  int ret = rte_mempool_set_ops_byname(mp, rte_mbuf_best_mempool_ops(), nullptr);
  if (ret == 0) {
    rte_pktmbuf_pool_init(mp, &priv);
    ret = rte_mempool_populate_default(mp);
    if (ret >= 0) {
      rte_mempool_obj_iter(mp, rte_pktmbuf_init, nullptr);
      return mp;
    }
  }
  rte_mempool_free(mp);
  rte_errno = -ret;
  return nullptr;
}

Napi::Value Setup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  if (p->configured) Throw(env, "port " + p->name + " is already set up");
  Napi::Object o = info[1].As<Napi::Object>();
  uint16_t rxDesc = o.Get("rxDesc").As<Napi::Number>().Uint32Value();
  uint16_t txDesc = o.Get("txDesc").As<Napi::Number>().Uint32Value();
  uint32_t mbufs = o.Get("mbufs").As<Napi::Number>().Uint32Value();
  uint16_t mtu = o.Get("mtu").As<Napi::Number>().Uint32Value();
  uint32_t slotBytes = info[6].As<Napi::Number>().Uint32Value();
  uint32_t slotCount = info[7].As<Napi::Number>().Uint32Value();
  if (slotCount == 0 || slotCount > kMaxBurst) Throw(env, "slotCount must be 1.." + std::to_string(kMaxBurst));
  if (slotBytes > RTE_MBUF_DEFAULT_DATAROOM)
    Throw(env, "slotBytes " + std::to_string(slotBytes) + " exceeds the mbuf data room " +
                   std::to_string(RTE_MBUF_DEFAULT_DATAROOM));
  size_t area = size_t(slotBytes) * slotCount;
  p->rxSlots = TypedData<uint8_t>(env, info[2], "rxSlots", area);
  p->rxLens = TypedData<uint32_t>(env, info[3], "rxLens", 4 * slotCount);
  p->txSlots = TypedData<uint8_t>(env, info[4], "txSlots", area);
  p->txLens = TypedData<uint32_t>(env, info[5], "txLens", 4 * slotCount);
  for (int i = 0; i < 4; i++) p->keep[i] = Napi::Persistent(info[2 + i]);
  p->slotBytes = slotBytes;
  p->slotCount = slotCount;

  int socket = rte_eth_dev_socket_id(p->id);
  if (socket < 0) socket = static_cast<int>(rte_socket_id());
  std::string poolName = "ftoe_pool_" + std::to_string(p->id);
  // net_af_xdp (22.11) registers the pool's memory as its UMEM, sized as if the objects were
  // packed (populated objects x object size from the first chunk). Without hugepages the
  // default placement keeps each object inside one 4 KiB page (IOVA contiguity), one 2368-byte
  // object per page, so the pool spans ~1.7x what the UMEM covers: frames in mbufs past the end
  // were refused by the kernel as invalid TX descriptors (XDP_STATISTICS tx_invalid_descs,
  // ~0.1-1% of frames, silently: DPDK counted them as sent), and fill-ring buffers there were
  // lost. Copy-mode AF_XDP needs no IOVA contiguity, so that pool is packed (NO_IOVA_CONTIG).
  p->pool = PktmbufPool(poolName.c_str(), mbufs, socket, p->kickUntilSent ? RTE_MEMPOOL_F_NO_IOVA_CONTIG : 0);
  if (p->pool == nullptr)
    Throw(env, "cannot create an mbuf pool of " + std::to_string(mbufs) + " for " + p->name + ": " +
                   ErrText(rte_errno) + " (raise EAL memory with -m)");

  rte_eth_conf conf{};
  conf.rxmode.mtu = mtu;
  int ret = rte_eth_dev_configure(p->id, 1, 1, &conf);
  if (ret < 0) Throw(env, "rte_eth_dev_configure(" + p->name + "): " + ErrText(ret));
  ret = rte_eth_dev_adjust_nb_rx_tx_desc(p->id, &rxDesc, &txDesc);
  if (ret < 0) Throw(env, "rte_eth_dev_adjust_nb_rx_tx_desc(" + p->name + "): " + ErrText(ret));
  // net_af_xdp opens its XDP socket in RX queue setup: the descriptors new after it are ours.
  std::vector<int> xskBefore = p->kickUntilSent ? XskFds() : std::vector<int>();
  ret = rte_eth_rx_queue_setup(p->id, 0, rxDesc, socket, nullptr, p->pool);
  if (ret < 0) Throw(env, "rte_eth_rx_queue_setup(" + p->name + "): " + ErrText(ret));
  if (p->kickUntilSent) {
    for (int fd : XskFds())
      if (std::find(xskBefore.begin(), xskBefore.end(), fd) == xskBefore.end()) p->xskFds.push_back(fd);
  }
  ret = rte_eth_tx_queue_setup(p->id, 0, txDesc, socket, nullptr);
  if (ret < 0) Throw(env, "rte_eth_tx_queue_setup(" + p->name + "): " + ErrText(ret));
  p->configured = true;
  ret = rte_eth_dev_start(p->id);
  if (ret < 0) Throw(env, "rte_eth_dev_start(" + p->name + "): " + ErrText(ret));
  // Our MAC is the stack's, which may differ from the device's: receive every frame.
  rte_eth_promiscuous_enable(p->id);
  p->started.store(true);
  return env.Undefined();
}

uint32_t CopyOut(Port* p, rte_mbuf* m, uint32_t slot) {
  uint32_t len = rte_pktmbuf_pkt_len(m);
  if (len > p->slotBytes) {
    p->rxOversize++;
    rte_pktmbuf_free(m);
    return 0;
  }
  uint8_t* dst = p->rxSlots + size_t(slot) * p->slotBytes;
  for (rte_mbuf* s = m; s != nullptr; s = s->next) {
    memcpy(dst, rte_pktmbuf_mtod(s, const void*), s->data_len);
    dst += s->data_len;
  }
  p->rxLens[slot] = len;
  rte_pktmbuf_free(m);
  return 1;
}

// rxBurst(port, max): frames copied into rxSlots[0..n), lengths in rxLens; returns n.
Napi::Value RxBurst(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  uint32_t max = std::min<uint32_t>(info[1].As<Napi::Number>().Uint32Value(), p->slotCount);
  if (!p->started.load()) return Napi::Number::New(env, 0);
  std::lock_guard<std::mutex> rx(p->rxLock);
  uint32_t n = 0;
  while (n < max && p->stashHead < p->stashCount) n += CopyOut(p, p->stash[p->stashHead++], n);
  if (p->stashHead == p->stashCount) p->stashHead = p->stashCount = 0;
  if (n < max) {
    rte_mbuf* m[kMaxBurst];
    uint16_t k = rte_eth_rx_burst(p->id, 0, m, static_cast<uint16_t>(max - n));
    for (uint16_t i = 0; i < k; i++) n += CopyOut(p, m[i], n);
  }
  return Napi::Number::New(env, n);
}

// txBurst(port, count): frames from txSlots[0..count) with lengths txLens; returns how many
// the device took (the first ones; the caller retries the rest).
Napi::Value TxBurst(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  uint32_t count = std::min<uint32_t>(info[1].As<Napi::Number>().Uint32Value(), p->slotCount);
  if (!p->started.load() || count == 0) return Napi::Number::New(env, 0);
  rte_mbuf* m[kMaxBurst];
  if (rte_pktmbuf_alloc_bulk(p->pool, m, count) != 0) {
    p->txNoMbuf++;
    return Napi::Number::New(env, 0);
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t len = std::min(p->txLens[i], p->slotBytes);
    char* d = rte_pktmbuf_append(m[i], static_cast<uint16_t>(len));
    memcpy(d, p->txSlots + size_t(i) * p->slotBytes, len);
  }
  uint16_t sent = rte_eth_tx_burst(p->id, 0, m, static_cast<uint16_t>(count));
  if (sent < count) rte_pktmbuf_free_bulk(m + sent, count - sent);
  if (p->kickUntilSent && sent > 0) {
    // An empty burst is a kick (the PMD submits nothing and calls send() again); the kernel's
    // copy-mode transmit takes at most 32 descriptors (TX_BATCH_SIZE) per call and a veth may
    // take fewer, so kick as many times as the burst could still need, plus one.
    for (uint32_t k = 0; k <= sent / 16u; k++) {
      rte_eth_tx_burst(p->id, 0, m, 0);
      p->txKicks++;
    }
  }
  return Napi::Number::New(env, sent);
}

// setWakeup(port, fn | null): fn runs on the JavaScript thread after arm() and a frame.
Napi::Value SetWakeup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  if (p->hasWake) {
    Disarm(p);
    std::lock_guard<std::mutex> table(G().tableLock);  // the helper may be calling it
    p->hasWake = false;
    p->wake.Release();
  }
  if (info.Length() > 1 && info[1].IsFunction()) {
    p->wake = Napi::ThreadSafeFunction::New(env, info[1].As<Napi::Function>(), "flextoe-dpdk-wakeup", 0, 1);
    std::lock_guard<std::mutex> table(G().tableLock);
    p->hasWake = true;
  }
  return env.Undefined();
}

// refWakeup(port, bool): whether a pending wakeup keeps the event loop alive.
Napi::Value RefWakeup(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  if (p->hasWake) {
    if (info[1].ToBoolean().Value())
      p->wake.Ref(env);
    else
      p->wake.Unref(env);
  }
  return env.Undefined();
}

// arm(port): the consumer found the port idle; report the next frame once.
Napi::Value Arm(const Napi::CallbackInfo& info) {
  Port* p = PortArg(info);
  if (p->armed.exchange(1) == 0) {
    {
      std::lock_guard<std::mutex> lk(G().pollerLock);
      G().armedPorts.fetch_add(1);
    }
    G().pollerCv.notify_one();
  }
  return info.Env().Undefined();
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  rte_eth_stats s{};
  rte_eth_stats_get(p->id, &s);
  Napi::Object out = Napi::Object::New(env);
  out.Set("ipackets", static_cast<double>(s.ipackets));
  out.Set("opackets", static_cast<double>(s.opackets));
  out.Set("ibytes", static_cast<double>(s.ibytes));
  out.Set("obytes", static_cast<double>(s.obytes));
  out.Set("imissed", static_cast<double>(s.imissed));
  out.Set("ierrors", static_cast<double>(s.ierrors));
  out.Set("oerrors", static_cast<double>(s.oerrors));
  out.Set("rxNoMbuf", static_cast<double>(s.rx_nombuf));
  out.Set("rxOversize", static_cast<double>(p->rxOversize));
  out.Set("txNoMbuf", static_cast<double>(p->txNoMbuf));
  out.Set("txKicks", static_cast<double>(p->txKicks));
  if (!p->xskFds.empty()) {
    // Summed over the port's XDP sockets (one per queue; we use one queue).
    xdp_statistics sum{};
    for (int fd : p->xskFds) {
      xdp_statistics st{};
      socklen_t len = sizeof st;
      if (getsockopt(fd, SOL_XDP, XDP_STATISTICS, &st, &len) != 0) continue;
      sum.rx_dropped += st.rx_dropped;
      sum.rx_invalid_descs += st.rx_invalid_descs;
      sum.tx_invalid_descs += st.tx_invalid_descs;
      sum.rx_ring_full += st.rx_ring_full;
      sum.rx_fill_ring_empty_descs += st.rx_fill_ring_empty_descs;
      sum.tx_ring_empty_descs += st.tx_ring_empty_descs;
    }
    Napi::Object x = Napi::Object::New(env);
    x.Set("rxDropped", static_cast<double>(sum.rx_dropped));
    x.Set("rxInvalidDescs", static_cast<double>(sum.rx_invalid_descs));
    x.Set("txInvalidDescs", static_cast<double>(sum.tx_invalid_descs));
    x.Set("rxRingFull", static_cast<double>(sum.rx_ring_full));
    x.Set("rxFillRingEmptyDescs", static_cast<double>(sum.rx_fill_ring_empty_descs));
    x.Set("txRingEmptyDescs", static_cast<double>(sum.tx_ring_empty_descs));
    out.Set("xdp", x);
  }
  return out;
}

// stop(port): stops the device (frames in the stash are dropped); close(port) unplugs it.
Napi::Value Stop(const Napi::CallbackInfo& info) {
  Port* p = PortArg(info);
  Disarm(p);
  std::lock_guard<std::mutex> rx(p->rxLock);
  if (p->started.exchange(false)) rte_eth_dev_stop(p->id);
  if (p->stashHead < p->stashCount)
    rte_pktmbuf_free_bulk(p->stash + p->stashHead, p->stashCount - p->stashHead);
  p->stashHead = p->stashCount = 0;
  return info.Env().Undefined();
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  if (!p->configured) Throw(env, "port " + p->name + " is not set up");
  if (p->started.load()) return env.Undefined();
  int ret = rte_eth_dev_start(p->id);
  if (ret < 0) Throw(env, "rte_eth_dev_start(" + p->name + "): " + ErrText(ret));
  p->started.store(true);
  return env.Undefined();
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Port* p = PortArg(info);
  Stop(info);
  {
    std::lock_guard<std::mutex> table(G().tableLock);
    G().ports[p->id] = nullptr;
  }
  if (p->hasWake) p->wake.Release();
  std::string problems;
  int ret = rte_eth_dev_close(p->id);
  if (ret < 0) problems += "rte_eth_dev_close: " + ErrText(ret) + "; ";
  // Unplug the device so its name (and a net_tap's interface) can be used again.
  if (p->device != nullptr) {
    ret = rte_dev_remove(p->device);
    if (ret < 0 && ret != -ENOENT) problems += "rte_dev_remove: " + ErrText(ret) + "; ";
  }
  if (p->pool != nullptr) rte_mempool_free(p->pool);
  for (auto& r : p->keep) r.Reset();
  std::string name = p->name;
  delete p;
  if (!problems.empty()) Throw(env, "closing " + name + ": " + problems);
  return env.Undefined();
}


// registerThread(): this thread's lcore id, registering it (rte_thread_register) unless it is
// already an EAL thread (the main lcore, or registered before).
Napi::Value RegisterThread(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  {
    std::lock_guard<std::mutex> lk(G().ealLock);
    if (!G().ealReady) Throw(env, "registerThread: EAL is not initialised in this process");
  }
  unsigned id = rte_lcore_id();
  if (id == LCORE_ID_ANY) {
    if (rte_thread_register() != 0)
      Throw(env, "rte_thread_register: " + ErrText(rte_errno) +
                     (rte_errno == ENOMEM ? " (all " + std::to_string(RTE_MAX_LCORE) + " lcore ids are taken)" : ""));
    registeredHere = true;
    id = rte_lcore_id();
  }
  return Napi::Number::New(env, id);
}

// unregisterThread(): gives back the lcore id registerThread() took on this thread; true if it did.
Napi::Value UnregisterThread(const Napi::CallbackInfo& info) {
  bool was = registeredHere;
  if (was) {
    rte_thread_unregister();
    registeredHere = false;
  }
  return Napi::Boolean::New(info.Env(), was);
}

// lcoreInfo(): { id: this thread's lcore id or -1, main: the main lcore, count: lcores in use
// (EAL's and registered ones), registered: whether registerThread() registered this thread }.
Napi::Value LcoreInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object out = Napi::Object::New(env);
  unsigned id = rte_lcore_id();
  out.Set("id", id == LCORE_ID_ANY ? -1.0 : static_cast<double>(id));
  bool ready;
  {
    std::lock_guard<std::mutex> lk(G().ealLock);
    ready = G().ealReady;
  }
  out.Set("main", ready ? static_cast<double>(rte_get_main_lcore()) : -1.0);
  out.Set("count", ready ? static_cast<double>(rte_lcore_count()) : 0.0);
  out.Set("registered", registeredHere);
  return out;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("ealInit", Napi::Function::New(env, EalInit));
  exports.Set("ealState", Napi::Function::New(env, EalState));
  exports.Set("open", Napi::Function::New(env, Open));
  exports.Set("setup", Napi::Function::New(env, Setup));
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("close", Napi::Function::New(env, Close));
  exports.Set("rxBurst", Napi::Function::New(env, RxBurst));
  exports.Set("txBurst", Napi::Function::New(env, TxBurst));
  exports.Set("setWakeup", Napi::Function::New(env, SetWakeup));
  exports.Set("refWakeup", Napi::Function::New(env, RefWakeup));
  exports.Set("arm", Napi::Function::New(env, Arm));
  exports.Set("stats", Napi::Function::New(env, Stats));
  exports.Set("registerThread", Napi::Function::New(env, RegisterThread));
  exports.Set("unregisterThread", Napi::Function::New(env, UnregisterThread));
  exports.Set("lcoreInfo", Napi::Function::New(env, LcoreInfo));
  exports.Set("maxBurst", Napi::Number::New(env, kMaxBurst));
  exports.Set("mbufDataRoom", Napi::Number::New(env, RTE_MBUF_DEFAULT_DATAROOM));
  return exports;
}

}  // namespace

NODE_API_MODULE(flextoe_dpdk, Init)
