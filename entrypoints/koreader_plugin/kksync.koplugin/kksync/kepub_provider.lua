--[[--
Opening extension-less Nickel kepubs with KOReader's EPUB engine.

`DocumentRegistry:getProvider` picks a provider by file extension; for a file without one it
returns the "txt" fallback, and `hasProvider` says no. We register the kepub paths with the
provider KOReader uses for `.epub` (crengine) explicitly: `getProvider` returns it and
`hasProvider` accepts the path. This also makes KOReader's history and "open last document"
reopen these books as EPUBs, without writing a `provider` key into the sidecar.

The reader's own choice still wins: a book (or file type) associated with another engine through
"Open with…" gets that engine, as stock `getProvider` does for files with an extension.
]]

local KepubProvider = {}

--- The provider KOReader would use for an `.epub` file, or nil when none is registered.
function KepubProvider.epubProvider(DocumentRegistry)
    local providers = DocumentRegistry:getProviders("kksync.epub")
    return providers and providers[1] and providers[1].provider or nil
end

--- The provider the reader chose for this file with "Open with…", as stock getProvider finds it
-- (auxiliary providers only when `include_aux`), or nil.
function KepubProvider.associatedProvider(DocumentRegistry, file, include_aux)
    if not DocumentRegistry.getAssociatedProviderKey or not DocumentRegistry.known_providers then
        return nil
    end
    local key = DocumentRegistry:getAssociatedProviderKey(file)
    local provider = key and DocumentRegistry.known_providers[key]
    if provider and (not provider.order or include_aux) then
        return provider
    end
    return nil
end

--- Route kepub paths (as told by `is_kepub`) to the EPUB provider. Idempotent.
function KepubProvider.install(DocumentRegistry, is_kepub)
    if DocumentRegistry.kksync_stock_getProvider then
        return false
    end
    local stock_get = DocumentRegistry.getProvider
    local stock_has = DocumentRegistry.hasProvider
    DocumentRegistry.kksync_stock_getProvider = stock_get

    DocumentRegistry.getProvider = function(self, file, include_aux, ...)
        if is_kepub(file) then
            local associated = KepubProvider.associatedProvider(self, file, include_aux)
            if associated then
                return associated, true
            end
            local provider = KepubProvider.epubProvider(self)
            if provider then
                return provider
            end
        end
        return stock_get(self, file, include_aux, ...)
    end
    DocumentRegistry.hasProvider = function(self, file, ...)
        if is_kepub(file) and KepubProvider.epubProvider(self) then
            return true
        end
        return stock_has(self, file, ...)
    end
    return true
end

return KepubProvider
