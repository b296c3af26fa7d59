#include "clibvirt.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

// One pointer per libvirt function Kumo uses, typed from libvirt's own declarations.
#define CLV_FUNCTIONS(X) \
    X(virConnectOpen) X(virConnectClose) X(virConnectGetType) X(virConnectListAllNodeDevices) \
    X(virNodeDeviceGetName) X(virNodeDeviceGetXMLDesc) X(virNodeDeviceDetachFlags) \
    X(virNodeDeviceReAttach) X(virNodeDeviceLookupByName) X(virNodeDeviceFree) \
    X(virConnectListAllDomains) X(virDomainGetName) X(virDomainGetXMLDesc) X(virDomainFree) \
    X(virGetLastError) X(virSetErrorFunc)

#define CLV_POINTER(name) static __typeof__(name) *p_##name;
CLV_FUNCTIONS(CLV_POINTER)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void quiet(void *data, virErrorPtr error)
{
    (void)data;
    (void)error;
}

static void load(void)
{
    void *library = dlopen("libvirt.so.0", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(load_error, sizeof load_error, "%s", dlerror());
        return;
    }
#define CLV_RESOLVE(name) \
    if ((p_##name = (__typeof__(name) *)dlsym(library, #name)) == NULL) { \
        snprintf(load_error, sizeof load_error, "libvirt.so.0 lacks %s", #name); \
        return; \
    }
    CLV_FUNCTIONS(CLV_RESOLVE)
    p_virSetErrorFunc(NULL, quiet);
}

int clv_load(void)
{
    pthread_once(&once, load);
    return load_error[0] == '\0' ? 0 : -1;
}

const char *clv_load_error(void) { return load_error; }

virConnectPtr clv_open(const char *uri) { return p_virConnectOpen(uri); }
int clv_close(virConnectPtr conn) { return p_virConnectClose(conn); }
const char *clv_driver_type(virConnectPtr conn) { return p_virConnectGetType(conn); }

int clv_list_pci_devices(virConnectPtr conn, virNodeDevicePtr **devices)
{
    return p_virConnectListAllNodeDevices(conn, devices, VIR_CONNECT_LIST_NODE_DEVICES_CAP_PCI_DEV);
}

const char *clv_device_name(virNodeDevicePtr device) { return p_virNodeDeviceGetName(device); }
char *clv_device_xml(virNodeDevicePtr device) { return p_virNodeDeviceGetXMLDesc(device, 0); }
int clv_device_detach(virNodeDevicePtr device, const char *driver) { return p_virNodeDeviceDetachFlags(device, driver, 0); }
int clv_device_reattach(virNodeDevicePtr device) { return p_virNodeDeviceReAttach(device); }
virNodeDevicePtr clv_device_lookup(virConnectPtr conn, const char *name) { return p_virNodeDeviceLookupByName(conn, name); }
int clv_device_free(virNodeDevicePtr device) { return p_virNodeDeviceFree(device); }

int clv_list_domains(virConnectPtr conn, virDomainPtr **domains) { return p_virConnectListAllDomains(conn, domains, 0); }
const char *clv_domain_name(virDomainPtr domain) { return p_virDomainGetName(domain); }
char *clv_domain_xml(virDomainPtr domain) { return p_virDomainGetXMLDesc(domain, 0); }
int clv_domain_free(virDomainPtr domain) { return p_virDomainFree(domain); }

int clv_last_error(char *message, size_t size)
{
    virErrorPtr error = p_virGetLastError();
    if (error == NULL) {
        if (size > 0) message[0] = '\0';
        return 0;
    }
    snprintf(message, size, "%s", error->message != NULL ? error->message : "unknown libvirt error");
    return error->code;
}
